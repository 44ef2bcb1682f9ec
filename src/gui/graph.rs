//! The supply-chain graph view, drawn on egui's painter for thousands of nodes: a layered
//! layout (technologies, then items by depth, organisations, countries) with crossings reduced
//! by barycentre sweeps; edges and nodes in one batched mesh each, only what is in view; a
//! grid index for hover and click; labels only where they fit (technologies, the selection,
//! chokepoints, and everything once zoomed in).
//!
//! Interaction: drag to pan, scroll to zoom, click to select (a card with the record and a
//! button to open its editor), hover for a tooltip; focus on one technology's upstream
//! subgraph (N hops) with its chokepoints ringed; filter by kind and by concentration; colour
//! by kind, by concentration (HHI) or by top supplying country; and a cut-off scenario that
//! lights up everything that depends on the countries cut.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, TryRecvError, channel};

use egui::{Color32, Mesh, Pos2, Rect, Sense, Shape, Stroke, Vec2, pos2, vec2};
use uuid::Uuid;

use super::app::Command;
use crate::analysis::{NodeKind, SupplyGraph};
use crate::model::{Classification, Kind};
use crate::service::Session;

/// Space between layers and between nodes of a layer (world units).
const LAYER_GAP: f32 = 320.0;
const ROW_GAP: f32 = 26.0;
/// Rows of a column before a layer wraps into another, and the gap between its columns.
const MAX_ROWS: usize = 60;
const COLUMN_GAP: f32 = 200.0;
/// Grid cell of the hover index (world units).
const CELL: f32 = 64.0;
/// Steps of one run of the force-directed layout.
const FORCE_STEPS: usize = 600;
/// Labels drawn at most per frame.
const MAX_LABELS: usize = 300;

/// How nodes are coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColourBy {
    /// By what the node is.
    Kind,
    /// By concentration of supply (HHI).
    Concentration,
    /// By the top supplying country.
    Country,
}

/// One node as drawn.
#[derive(Debug, Clone)]
pub struct GraphNode {
    /// Record id or country code.
    pub id: String,
    /// Name.
    pub name: String,
    /// What it is.
    pub kind: NodeKind,
    /// Position (world units).
    pub pos: Pos2,
    /// HHI 0-10,000 for items with supply.
    pub hhi: Option<f64>,
    /// Top supplying country of items with supply.
    pub top_country: Option<String>,
    /// Area of the EU 2023 list (technologies).
    pub area: Option<String>,
    /// Domains (technologies).
    pub domains: Vec<String>,
}

/// The laid-out graph.
#[derive(Debug, Default)]
pub struct GraphLayout {
    /// Nodes.
    pub nodes: Vec<GraphNode>,
    /// (node, what it depends on).
    pub edges: Vec<(u32, u32)>,
    dependencies: Vec<Vec<u32>>,
    dependents: Vec<Vec<u32>>,
    chokepoints: BTreeMap<u32, Vec<u32>>,
    grid: HashMap<(i32, i32), Vec<u32>>,
    /// Highest classification of the records drawn on.
    pub level: Classification,
}

impl GraphLayout {
    /// Lays out the register's supply graph.
    #[must_use]
    pub fn build(session: &Session) -> Self {
        let records = session.supply_records().unwrap_or_default();
        let level = records.highest();
        let graph = records.graph();
        let mut layout = Self::from_graph(&graph);
        layout.level = level;
        let technologies: HashMap<String, &crate::model::Record> = records
            .technologies
            .iter()
            .map(|t| (t.meta.id.to_string(), t))
            .collect();
        for node in &mut layout.nodes {
            if let Some(t) = technologies.get(&node.id) {
                node.area = t.text("area").map(str::to_owned);
                node.domains = t
                    .fields
                    .get("domains")
                    .and_then(|d| d.as_array())
                    .map(|list| {
                        list.iter()
                            .filter_map(|v| v.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
            }
        }
        let stored = session.store().graph_positions().unwrap_or_default();
        if !stored.is_empty() {
            let placed: HashMap<&str, Pos2> = stored
                .iter()
                .map(|(node, x, y)| {
                    #[allow(clippy::cast_possible_truncation)]
                    let pos = pos2(*x as f32, *y as f32);
                    (node.as_str(), pos)
                })
                .collect();
            for node in &mut layout.nodes {
                if let Some(pos) = placed.get(node.id.as_str()) {
                    node.pos = *pos;
                }
            }
            layout.reindex();
        }
        layout
    }

    /// The graph as GraphML (opens in Gephi, yEd, networkx): nodes with name and kind, edges
    /// from a node to what it depends on, and the marking as a graph attribute and comment.
    #[must_use]
    pub fn graphml(&self) -> String {
        let escape = |t: &str| {
            t.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;")
        };
        let marking = self.level.marking();
        let mut out = String::new();
        let _ = writeln!(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
        let _ = writeln!(out, "<!-- {} -->", escape(marking));
        let _ = writeln!(
            out,
            "<graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\">\n  <key id=\"marking\" for=\"graph\" attr.name=\"marking\" attr.type=\"string\"/>\n  <key id=\"name\" for=\"node\" attr.name=\"name\" attr.type=\"string\"/>\n  <key id=\"kind\" for=\"node\" attr.name=\"kind\" attr.type=\"string\"/>\n  <key id=\"hhi\" for=\"node\" attr.name=\"hhi\" attr.type=\"double\"/>\n  <key id=\"x\" for=\"node\" attr.name=\"x\" attr.type=\"float\"/>\n  <key id=\"y\" for=\"node\" attr.name=\"y\" attr.type=\"float\"/>\n  <graph id=\"supply\" edgedefault=\"directed\">\n    <data key=\"marking\">{}</data>",
            escape(marking)
        );
        for node in &self.nodes {
            let _ = write!(
                out,
                "    <node id=\"{}\"><data key=\"name\">{}</data><data key=\"kind\">{}</data><data key=\"x\">{}</data><data key=\"y\">{}</data>",
                escape(&node.id),
                escape(&node.name),
                kind_name(node.kind),
                node.pos.x,
                node.pos.y
            );
            if let Some(hhi) = node.hhi {
                let _ = write!(out, "<data key=\"hhi\">{hhi:.1}</data>");
            }
            let _ = writeln!(out, "</node>");
        }
        for (i, (a, b)) in self.edges.iter().enumerate() {
            let _ = writeln!(
                out,
                "    <edge id=\"e{i}\" source=\"{}\" target=\"{}\"/>",
                escape(&self.nodes[*a as usize].id),
                escape(&self.nodes[*b as usize].id)
            );
        }
        let _ = writeln!(out, "  </graph>\n</graphml>\n<!-- {} -->", escape(marking));
        out
    }

    /// The nodes and edges in `shown` as an SVG picture, with the marking as a banner at the
    /// top and bottom.
    #[must_use]
    pub fn svg(&self, shown: &BTreeSet<u32>, colour: impl Fn(&GraphNode) -> Color32) -> String {
        let escape = |t: &str| {
            t.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
        };
        let points: Vec<Pos2> = shown.iter().map(|n| self.nodes[*n as usize].pos).collect();
        let bounds = Rect::from_points(&points).expand(80.0);
        let bounds = if bounds.is_finite() {
            bounds
        } else {
            Rect::from_min_size(Pos2::ZERO, vec2(200.0, 100.0))
        };
        let (w, h) = (bounds.width(), bounds.height() + 60.0);
        let hex = |c: Color32| format!("#{:02x}{:02x}{:02x}", c.r(), c.g(), c.b());
        let banner = super::theme::banner_fill(self.level);
        let marking = escape(self.level.marking());
        let mut out = String::new();
        let _ = writeln!(
            out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w:.0}\" height=\"{h:.0}\" viewBox=\"0 0 {w:.0} {h:.0}\" font-family=\"sans-serif\">"
        );
        for y in [0.0, h - 24.0] {
            let _ = writeln!(
                out,
                "<rect x=\"0\" y=\"{y:.0}\" width=\"{w:.0}\" height=\"24\" fill=\"{}\"/><text x=\"{:.0}\" y=\"{:.0}\" fill=\"#ffffff\" font-size=\"14\" text-anchor=\"middle\">{marking}</text>",
                hex(banner),
                w / 2.0,
                y + 17.0
            );
        }
        let at = |p: Pos2| (p.x - bounds.min.x, p.y - bounds.min.y + 30.0);
        for &(a, b) in &self.edges {
            if shown.contains(&a) && shown.contains(&b) {
                let (x1, y1) = at(self.nodes[a as usize].pos);
                let (x2, y2) = at(self.nodes[b as usize].pos);
                let _ = writeln!(
                    out,
                    "<line x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{x2:.1}\" y2=\"{y2:.1}\" stroke=\"#8888a0\" stroke-width=\"0.6\"/>"
                );
            }
        }
        for &n in shown {
            let node = &self.nodes[n as usize];
            let (x, y) = at(node.pos);
            let _ = writeln!(
                out,
                "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"5\" fill=\"{}\"><title>{}</title></circle><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"9\">{}</text>",
                hex(colour(node)),
                escape(&node.name),
                x + 7.0,
                y + 3.0,
                escape(&node.name)
            );
        }
        let _ = writeln!(out, "</svg>");
        out
    }

    /// Rebuilds the hover index after nodes moved.
    pub fn reindex(&mut self) {
        self.grid.clear();
        for (i, node) in self.nodes.iter().enumerate() {
            self.grid
                .entry(cell(node.pos))
                .or_default()
                .push(u32::try_from(i).unwrap_or(u32::MAX));
        }
    }

    /// Every node's position, to keep in the observatory.
    #[must_use]
    pub fn positions(&self) -> Vec<(String, f64, f64)> {
        self.nodes
            .iter()
            .map(|n| (n.id.clone(), f64::from(n.pos.x), f64::from(n.pos.y)))
            .collect()
    }

    /// Lays out a supply graph (see the module docs).
    #[must_use]
    pub fn from_graph(graph: &SupplyGraph) -> Self {
        let n = graph.len();
        let index = |i: usize| u32::try_from(i).unwrap_or(u32::MAX);
        let dependencies: Vec<Vec<u32>> = (0..n).map(|i| graph.dependencies(index(i))).collect();
        let mut dependents: Vec<Vec<u32>> = vec![Vec::new(); n];
        for (i, deps) in dependencies.iter().enumerate() {
            for &d in deps {
                dependents[d as usize].push(index(i));
            }
        }
        // Layers: technologies 0; items by their depth below a technology (breadth first);
        // then organisations, then countries.
        let kinds: Vec<NodeKind> = (0..n).map(|i| graph.kind(index(i))).collect();
        let mut depth: Vec<Option<usize>> = vec![None; n];
        let mut queue: VecDeque<u32> = VecDeque::new();
        for (i, kind) in kinds.iter().enumerate() {
            if *kind == NodeKind::Technology {
                depth[i] = Some(0);
                queue.push_back(index(i));
            }
        }
        while let Some(node) = queue.pop_front() {
            let d = depth[node as usize].unwrap_or(0);
            for &child in &dependencies[node as usize] {
                if kinds[child as usize] == NodeKind::Item && depth[child as usize].is_none() {
                    depth[child as usize] = Some(d + 1);
                    queue.push_back(child);
                }
            }
        }
        let deepest = depth.iter().flatten().copied().max().unwrap_or(0).max(1);
        let layer_of = |i: usize| match kinds[i] {
            NodeKind::Technology => 0,
            NodeKind::Item => depth[i].unwrap_or(deepest + 1),
            NodeKind::Organisation => deepest + 2,
            NodeKind::Country => deepest + 3,
        };
        let layers_count = deepest + 4;
        let mut layers: Vec<Vec<u32>> = vec![Vec::new(); layers_count];
        for i in 0..n {
            layers[layer_of(i)].push(index(i));
        }
        for layer in &mut layers {
            layer.sort_by(|a, b| graph.name(*a).cmp(graph.name(*b)).then_with(|| a.cmp(b)));
        }
        // Crossing reduction: barycentre sweeps down and up.
        let mut rank = vec![0.0f32; n];
        let set_ranks = |layers: &Vec<Vec<u32>>, rank: &mut Vec<f32>| {
            for layer in layers {
                for (r, &node) in layer.iter().enumerate() {
                    #[allow(clippy::cast_precision_loss)]
                    let r = r as f32;
                    rank[node as usize] = r;
                }
            }
        };
        set_ranks(&layers, &mut rank);
        for sweep in 0..4 {
            let down = sweep % 2 == 0;
            for l in 0..layers.len() {
                let l = if down { l } else { layers.len() - 1 - l };
                let neighbours = |node: u32| -> Vec<u32> {
                    if down {
                        dependents[node as usize].clone()
                    } else {
                        dependencies[node as usize].clone()
                    }
                };
                let mut keyed: Vec<(f32, u32)> = layers[l]
                    .iter()
                    .map(|&node| {
                        let near = neighbours(node);
                        #[allow(clippy::cast_precision_loss)]
                        let key = if near.is_empty() {
                            rank[node as usize]
                        } else {
                            near.iter().map(|m| rank[*m as usize]).sum::<f32>() / near.len() as f32
                        };
                        (key, node)
                    })
                    .collect();
                keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                layers[l] = keyed.into_iter().map(|(_, node)| node).collect();
                for (r, &node) in layers[l].iter().enumerate() {
                    #[allow(clippy::cast_precision_loss)]
                    let r = r as f32;
                    rank[node as usize] = r;
                }
            }
        }
        let concentration: HashMap<String, (f64, String)> = graph
            .item_metrics()
            .into_iter()
            .map(|c| (c.id.to_string(), (c.hhi, c.top_country)))
            .collect();
        let mut nodes: Vec<GraphNode> = Vec::with_capacity(n);
        // Tall layers wrap into several columns of at most MAX_ROWS, so the map stays readable.
        let mut positions = vec![Pos2::ZERO; n];
        let mut x = 0.0f32;
        for layer in &layers {
            let columns = layer.len().div_ceil(MAX_ROWS).max(1);
            let rows = layer.len().min(MAX_ROWS);
            #[allow(clippy::cast_precision_loss)]
            let height = rows as f32 * ROW_GAP;
            for (r, &node) in layer.iter().enumerate() {
                #[allow(clippy::cast_precision_loss)]
                let pos = pos2(
                    x + (r / MAX_ROWS) as f32 * COLUMN_GAP,
                    (r % MAX_ROWS) as f32 * ROW_GAP - height / 2.0,
                );
                positions[node as usize] = pos;
            }
            #[allow(clippy::cast_precision_loss)]
            let width = (columns - 1) as f32 * COLUMN_GAP;
            x += width + LAYER_GAP;
        }
        for (i, pos) in positions.iter().enumerate() {
            let id = graph.id(index(i)).to_owned();
            let metrics = concentration.get(&id);
            nodes.push(GraphNode {
                name: graph.name(index(i)).to_owned(),
                kind: kinds[i],
                pos: *pos,
                hhi: metrics.map(|m| m.0),
                top_country: metrics.map(|m| m.1.clone()),
                area: None,
                domains: Vec::new(),
                id,
            });
        }
        let chokepoints = graph
            .technology_metrics(None)
            .into_iter()
            .filter_map(|m| {
                let t = graph.node(&m.id)?;
                let points = m.chokepoints.iter().filter_map(|c| graph.node(c)).collect();
                Some((t, points))
            })
            .collect();
        let edges = dependencies
            .iter()
            .enumerate()
            .flat_map(|(i, deps)| deps.iter().map(move |&d| (index(i), d)))
            .collect();
        let mut grid: HashMap<(i32, i32), Vec<u32>> = HashMap::new();
        for (i, node) in nodes.iter().enumerate() {
            grid.entry(cell(node.pos)).or_default().push(index(i));
        }
        GraphLayout {
            nodes,
            edges,
            dependencies,
            dependents,
            chokepoints,
            grid,
            level: Classification::Unclassified,
        }
    }

    /// The node nearest to a world position within `radius`.
    #[must_use]
    pub fn node_at(&self, world: Pos2, radius: f32) -> Option<u32> {
        let (cx, cy) = cell(world);
        let mut best: Option<(f32, u32)> = None;
        for dx in -1..=1 {
            for dy in -1..=1 {
                for &node in self.grid.get(&(cx + dx, cy + dy)).into_iter().flatten() {
                    let d = self.nodes[node as usize].pos.distance(world);
                    if d <= radius && best.is_none_or(|(bd, _)| d < bd) {
                        best = Some((d, node));
                    }
                }
            }
        }
        best.map(|(_, node)| node)
    }

    /// Nodes within `hops` dependencies of `from` (itself included).
    #[must_use]
    pub fn upstream(&self, from: u32, hops: usize) -> BTreeSet<u32> {
        let mut seen = BTreeSet::from([from]);
        let mut frontier = vec![from];
        for _ in 0..hops {
            let mut next = Vec::new();
            for node in frontier {
                for &d in &self.dependencies[node as usize] {
                    if seen.insert(d) {
                        next.push(d);
                    }
                }
            }
            frontier = next;
        }
        seen
    }

    /// Everything that depends, directly or not, on any of `nodes`.
    #[must_use]
    pub fn downstream_of(&self, nodes: &[u32]) -> BTreeSet<u32> {
        let mut seen: BTreeSet<u32> = nodes.iter().copied().collect();
        let mut stack: Vec<u32> = nodes.to_vec();
        while let Some(node) = stack.pop() {
            for &d in &self.dependents[node as usize] {
                if seen.insert(d) {
                    stack.push(d);
                }
            }
        }
        seen
    }

    /// The chokepoints of a technology node.
    #[must_use]
    pub fn chokepoints_of(&self, technology: u32) -> &[u32] {
        self.chokepoints.get(&technology).map_or(&[], Vec::as_slice)
    }

    /// The node with this id.
    #[must_use]
    pub fn find(&self, id: &str) -> Option<u32> {
        self.nodes
            .iter()
            .position(|n| n.id == id)
            .and_then(|i| u32::try_from(i).ok())
    }
}

fn cell(p: Pos2) -> (i32, i32) {
    #[allow(clippy::cast_possible_truncation)]
    let c = ((p.x / CELL).floor() as i32, (p.y / CELL).floor() as i32);
    c
}

/// The view's state.
pub struct GraphView {
    /// The layout (None until first shown).
    pub layout: Option<GraphLayout>,
    /// Screen offset of the world origin, relative to the view's centre.
    pub offset: Vec2,
    /// Pixels per world unit.
    pub zoom: f32,
    /// Selected node.
    pub selected: Option<u32>,
    /// Focused technology and how many hops upstream are shown.
    pub focus: Option<u32>,
    /// Hops shown around the focus.
    pub hops: usize,
    /// Kinds shown.
    pub show: [bool; 4],
    /// Items below this HHI are hidden (0 = all).
    pub min_hhi: f64,
    /// Colouring.
    pub colour: ColourBy,
    /// Countries typed for the cut-off scenario.
    pub cut_text: String,
    /// Nodes hit by the scenario.
    pub affected: BTreeSet<u32>,
    /// What the scenario found, for the user.
    pub scenario_note: Option<String>,
    /// Fit what is shown into the view at the next frame.
    pub fit_pending: bool,
    /// Select (and focus, for a technology) the node with this id once laid out.
    pub pending_select: Option<String>,
    /// A force-directed layout running on a background thread.
    force: Option<ForceJob>,
    /// The node being dragged.
    dragging: Option<u32>,
    /// An export waiting for the user to confirm that a plaintext file may be written.
    pub export: Option<ExportFormat>,
    /// Technologies of this area only.
    pub area: Option<String>,
    /// Technologies of this domain only.
    pub domain: Option<String>,
    /// Only what leads to this country (a code), with the paths highlighted.
    pub country: String,
    /// Centre of the drawing area in the last frame (screen).
    last_centre: Vec2,
}

/// Formats the view exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// The whole graph, for Gephi and other tools.
    GraphMl,
    /// A picture of what is shown.
    Svg,
}

/// A running force-directed layout.
struct ForceJob {
    positions: Receiver<Vec<Pos2>>,
    stop: Arc<AtomicBool>,
}

impl ForceJob {
    /// Starts the layout from the current positions.
    fn start(layout: &GraphLayout) -> Option<Self> {
        let mut points: Vec<Pos2> = layout.nodes.iter().map(|n| n.pos).collect();
        let edges = layout.edges.clone();
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, rx) = channel();
        let halt = Arc::clone(&stop);
        std::thread::Builder::new()
            .name("graph-layout".into())
            .spawn(move || {
                let mut params = super::force::ForceParams::default();
                for round in 0..FORCE_STEPS {
                    if halt.load(Ordering::Relaxed) {
                        break;
                    }
                    super::force::step(&mut points, &edges, &params);
                    params.max_step = (params.max_step * 0.995).max(2.0);
                    if round % 5 == 4 && tx.send(points.clone()).is_err() {
                        return;
                    }
                }
                let _ = tx.send(points);
            })
            .ok()?;
        Some(ForceJob {
            positions: rx,
            stop,
        })
    }
}

impl Default for GraphView {
    fn default() -> Self {
        GraphView {
            layout: None,
            offset: Vec2::ZERO,
            zoom: 0.25,
            selected: None,
            focus: None,
            hops: 4,
            show: [true; 4],
            min_hhi: 0.0,
            colour: ColourBy::Kind,
            cut_text: String::new(),
            affected: BTreeSet::new(),
            scenario_note: None,
            fit_pending: true,
            pending_select: None,
            force: None,
            dragging: None,
            export: None,
            area: None,
            domain: None,
            country: String::new(),
            last_centre: Vec2::ZERO,
        }
    }
}

fn kind_index(kind: NodeKind) -> usize {
    match kind {
        NodeKind::Technology => 0,
        NodeKind::Item => 1,
        NodeKind::Organisation => 2,
        NodeKind::Country => 3,
    }
}

fn kind_colour(kind: NodeKind) -> Color32 {
    match kind {
        NodeKind::Technology => Color32::from_rgb(40, 100, 200),
        NodeKind::Item => Color32::from_rgb(120, 120, 120),
        NodeKind::Organisation => Color32::from_rgb(150, 90, 170),
        NodeKind::Country => Color32::from_rgb(40, 150, 90),
    }
}

/// Green (dispersed) to red (one source) by HHI.
fn hhi_colour(hhi: f64) -> Color32 {
    #[allow(clippy::cast_possible_truncation)]
    let t = (hhi / 10_000.0).clamp(0.0, 1.0) as f32;
    // Between two channel values 0-255: the result is one too.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let lerp = |a: f32, b: f32| (a + (b - a) * t).round().clamp(0.0, 255.0) as u8;
    Color32::from_rgb(lerp(60.0, 215.0), lerp(170.0, 50.0), lerp(80.0, 40.0))
}

/// A stable colour for a country code.
fn country_colour(code: &str) -> Color32 {
    let hash = code.bytes().fold(2_166_136_261u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(16_777_619)
    });
    let [r, g, b, _] = hash.to_le_bytes();
    Color32::from_rgb(60 + r % 160, 60 + g % 160, 60 + b % 160)
}

impl GraphView {
    /// Whether a node passes the filters and the focus (`focus` also holds the country filter).
    fn visible(&self, layout: &GraphLayout, focus: Option<&BTreeSet<u32>>, node: u32) -> bool {
        let n = &layout.nodes[node as usize];
        let technology_ok = n.kind != NodeKind::Technology
            || (self
                .area
                .as_ref()
                .is_none_or(|a| n.area.as_ref() == Some(a))
                && self.domain.as_ref().is_none_or(|d| n.domains.contains(d)));
        technology_ok
            && self.show[kind_index(n.kind)]
            && (self.min_hhi <= 0.0
                || n.kind != NodeKind::Item
                || n.hhi.unwrap_or(0.0) >= self.min_hhi)
            && focus.is_none_or(|f| f.contains(&node))
    }

    fn colour_of(&self, node: &GraphNode) -> Color32 {
        match self.colour {
            ColourBy::Kind => kind_colour(node.kind),
            ColourBy::Concentration => node.hhi.map_or(Color32::from_gray(150), hhi_colour),
            ColourBy::Country => match node.kind {
                NodeKind::Country => country_colour(&node.id),
                _ => node
                    .top_country
                    .as_deref()
                    .map_or(Color32::from_gray(150), country_colour),
            },
        }
    }

    /// Runs the cut-off scenario typed in `cut_text`.
    pub fn run_scenario(&mut self) {
        let Some(layout) = &self.layout else { return };
        let codes: Vec<String> = self
            .cut_text
            .split([',', ' '])
            .filter(|c| !c.trim().is_empty())
            .map(|c| c.trim().to_uppercase())
            .collect();
        let cut: Vec<u32> = codes.iter().filter_map(|c| layout.find(c)).collect();
        if cut.is_empty() {
            self.affected.clear();
            self.scenario_note = Some(if codes.is_empty() {
                "Type country codes to cut, e.g. CN, RU".to_owned()
            } else {
                format!("No supply from {} is recorded", codes.join(", "))
            });
            return;
        }
        self.affected = layout.downstream_of(&cut);
        let techs = self
            .affected
            .iter()
            .filter(|n| layout.nodes[**n as usize].kind == NodeKind::Technology)
            .count();
        self.scenario_note = Some(format!(
            "{} node(s) depend on {}, {techs} technolog(ies) among them",
            self.affected.len() - cut.len(),
            codes.join(", ")
        ));
    }

    /// Draws the toolbar, the graph and the card of the selection.
    #[allow(clippy::too_many_lines)]
    pub fn ui(&mut self, ui: &mut egui::Ui, session: &Session, commands: &mut Vec<Command>) {
        if self.layout.is_none() {
            self.layout = Some(GraphLayout::build(session));
        }
        if let (Some(id), Some(layout)) = (self.pending_select.take(), &self.layout)
            && let Some(index) = layout.nodes.iter().position(|n| n.id == id)
            && let Ok(index) = u32::try_from(index)
        {
            self.selected = Some(index);
            if layout.nodes[index as usize].kind == NodeKind::Technology {
                self.focus = Some(index);
            }
            self.fit_pending = true;
        }
        self.poll_force(ui.ctx(), commands);
        let mut run = false;
        ui.horizontal_wrapped(|ui| {
            ui.heading("Supply graph");
            if let Some(layout) = &self.layout {
                ui.label(format!(
                    "{} nodes, {} edges",
                    layout.nodes.len(),
                    layout.edges.len()
                ));
            }
            if ui.button("Fit").clicked() {
                self.fit_pending = true;
            }
            if self.force.is_some() {
                if ui.button("Stop force layout").clicked()
                    && let Some(job) = &self.force
                {
                    job.stop.store(true, Ordering::Relaxed);
                }
            } else {
                if ui
                    .button("Force layout")
                    .on_hover_text("Barnes-Hut force-directed layout, on a background thread")
                    .clicked()
                    && let Some(layout) = &self.layout
                {
                    self.force = ForceJob::start(layout);
                }
                if ui
                    .button("Layered layout")
                    .on_hover_text("Technologies, items by depth, organisations, countries")
                    .clicked()
                {
                    commands.push(Command::SaveGraphPositions(Vec::new()));
                    self.layout = None;
                    self.fit_pending = true;
                }
            }
            ui.separator();
            for (i, label) in ["Technologies", "Items", "Organisations", "Countries"]
                .iter()
                .enumerate()
            {
                ui.checkbox(&mut self.show[i], *label);
            }
            ui.menu_button("Export", |ui| {
                if ui.button("Graph as GraphML…").clicked() {
                    self.export = Some(ExportFormat::GraphMl);
                    ui.close();
                }
                if ui.button("View as SVG…").clicked() {
                    self.export = Some(ExportFormat::Svg);
                    ui.close();
                }
            });
            ui.separator();
            ui.label("Colour");
            ui.selectable_value(&mut self.colour, ColourBy::Kind, "kind");
            ui.selectable_value(&mut self.colour, ColourBy::Concentration, "concentration");
            ui.selectable_value(&mut self.colour, ColourBy::Country, "country");
        });
        ui.horizontal_wrapped(|ui| {
            let technologies: Vec<(u32, String)> = self
                .layout
                .iter()
                .flat_map(|l| {
                    l.nodes
                        .iter()
                        .enumerate()
                        .filter(|(_, n)| n.kind == NodeKind::Technology)
                        .map(|(i, n)| (u32::try_from(i).unwrap_or(u32::MAX), n.name.clone()))
                })
                .collect();
            let mut technologies = technologies;
            technologies.sort_by(|a, b| a.1.cmp(&b.1));
            let current = self
                .focus
                .and_then(|f| technologies.iter().find(|t| t.0 == f))
                .map_or_else(|| "whole graph".to_owned(), |t| t.1.clone());
            let label = ui.label("Focus");
            egui::ComboBox::from_id_salt("graph-focus")
                .selected_text(current)
                .width(260.0)
                .show_ui(ui, |ui| {
                    if ui
                        .selectable_value(&mut self.focus, None, "whole graph")
                        .clicked()
                    {
                        self.fit_pending = true;
                    }
                    for (node, name) in &technologies {
                        if ui
                            .selectable_value(&mut self.focus, Some(*node), name)
                            .clicked()
                        {
                            self.fit_pending = true;
                        }
                    }
                })
                .response
                .labelled_by(label.id);
            let hops = ui.label("hops");
            ui.add(egui::DragValue::new(&mut self.hops).range(1..=12))
                .labelled_by(hops.id);
            let min = ui.label("Items with HHI from");
            ui.add(
                egui::DragValue::new(&mut self.min_hhi)
                    .range(0.0..=10_000.0)
                    .speed(50.0),
            )
            .labelled_by(min.id);
            let area = ui.label("Area");
            egui::ComboBox::from_id_salt("graph-area")
                .selected_text(self.area.clone().unwrap_or_else(|| "any".into()))
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut self.area, None, "any");
                    for a in crate::model::kind::AREAS {
                        ui.selectable_value(&mut self.area, Some((*a).to_owned()), *a);
                    }
                })
                .response
                .labelled_by(area.id);
            let domain = ui.label("Domain");
            egui::ComboBox::from_id_salt("graph-domain")
                .selected_text(self.domain.clone().unwrap_or_else(|| "any".into()))
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut self.domain, None, "any");
                    for d in crate::model::kind::DOMAINS {
                        ui.selectable_value(&mut self.domain, Some((*d).to_owned()), *d);
                    }
                })
                .response
                .labelled_by(domain.id);
            let country = ui.label("Paths to country");
            ui.add(egui::TextEdit::singleline(&mut self.country).desired_width(40.0))
                .labelled_by(country.id);
            ui.separator();
            let cut = ui.label("Cut countries");
            ui.add(egui::TextEdit::singleline(&mut self.cut_text).desired_width(90.0))
                .labelled_by(cut.id);
            if ui.button("Run scenario").clicked() {
                run = true;
            }
            if !self.affected.is_empty() && ui.button("Clear").clicked() {
                self.affected.clear();
                self.scenario_note = None;
            }
        });
        if run {
            self.run_scenario();
        }
        let Some(layout) = self.layout.take() else {
            return;
        };
        let mut focus_set = self.focus.map(|f| layout.upstream(f, self.hops));
        // A country: only the paths that lead to it (within the focus, if any).
        let country = self.country.trim().to_uppercase();
        let mut paths: BTreeSet<u32> = BTreeSet::new();
        if !country.is_empty()
            && let Some(c) = layout.find(&country)
        {
            paths = layout.downstream_of(&[c]);
            focus_set = Some(match focus_set {
                Some(f) => f.intersection(&paths).copied().collect(),
                None => paths.clone(),
            });
        }
        let focus_set = focus_set;
        let passing = (0..layout.nodes.len())
            .filter_map(|i| u32::try_from(i).ok())
            .filter(|&n| self.visible(&layout, focus_set.as_ref(), n))
            .count();
        ui.horizontal_wrapped(|ui| {
            ui.label(format!("{passing} of {} nodes shown", layout.nodes.len()));
            if let Some(note) = &self.scenario_note {
                ui.separator();
                ui.label(note);
            }
        });
        let chokepoints: BTreeSet<u32> = self
            .focus
            .map(|f| layout.chokepoints_of(f).iter().copied().collect())
            .unwrap_or_default();
        if let Some(node) = self.selected {
            self.card(ui, &layout, node, commands);
        }
        let (response, painter) = ui.allocate_painter(ui.available_size(), Sense::click_and_drag());
        let rect = response.rect;
        let centre = rect.center().to_vec2();
        self.last_centre = centre;
        if std::mem::take(&mut self.fit_pending) {
            let shown = (0..layout.nodes.len())
                .filter_map(|i| u32::try_from(i).ok())
                .filter(|&n| self.visible(&layout, focus_set.as_ref(), n))
                .map(|n| layout.nodes[n as usize].pos);
            let bounds = Rect::from_points(&shown.collect::<Vec<_>>());
            if bounds.is_finite() {
                let size = bounds.size().max(vec2(1.0, 1.0));
                self.zoom = ((rect.width() - 80.0) / size.x)
                    .min((rect.height() - 40.0) / size.y)
                    .clamp(0.005, 2.0);
                self.offset = -bounds.center().to_vec2() * self.zoom;
            }
        }
        let to_world = |p: Pos2, zoom: f32, offset: Vec2| -> Pos2 {
            ((p.to_vec2() - centre - offset) / zoom).to_pos2()
        };
        // Drag a node to move it, or the background to pan; zoom about the pointer.
        if response.drag_started() {
            self.dragging = response.interact_pointer_pos().and_then(|pos| {
                let world = to_world(pos, self.zoom, self.offset);
                layout
                    .node_at(world, 12.0 / self.zoom)
                    .filter(|n| self.visible(&layout, focus_set.as_ref(), *n))
            });
        }
        let mut layout = layout;
        if response.dragged() {
            match self.dragging {
                Some(node) if self.force.is_none() => {
                    layout.nodes[node as usize].pos += response.drag_delta() / self.zoom;
                }
                _ => self.offset += response.drag_delta(),
            }
        }
        if response.drag_stopped() && self.dragging.take().is_some() {
            layout.reindex();
            commands.push(Command::SaveGraphPositions(layout.positions()));
        }
        let layout = layout;
        if response.hovered() {
            let (scroll, zoom_delta) = ui.input(|i| (i.smooth_scroll_delta.y, i.zoom_delta()));
            let factor = zoom_delta * (scroll / 400.0).exp();
            if (factor - 1.0).abs() > 1e-4
                && let Some(pointer) = response.hover_pos()
            {
                let before = to_world(pointer, self.zoom, self.offset);
                self.zoom = (self.zoom * factor).clamp(0.005, 8.0);
                self.offset = pointer.to_vec2() - centre - before.to_vec2() * self.zoom;
            }
        }
        let to_screen =
            |p: Pos2| -> Pos2 { (p.to_vec2() * self.zoom + self.offset + centre).to_pos2() };
        painter.rect_filled(rect, 0.0, ui.visuals().extreme_bg_color);
        let view = rect.expand(20.0);
        let visible = |node: u32| self.visible(&layout, focus_set.as_ref(), node);
        // Edges: one mesh of thin quads; faint when zoomed out.
        let mut edges = Mesh::default();
        let width = (self.zoom * 1.2).clamp(0.4, 2.0);
        let faint = if self.zoom < 0.1 { 40 } else { 90 };
        for &(a, b) in &layout.edges {
            if !visible(a) || !visible(b) {
                continue;
            }
            let (pa, pb) = (
                to_screen(layout.nodes[a as usize].pos),
                to_screen(layout.nodes[b as usize].pos),
            );
            if !view.intersects(Rect::from_two_pos(pa, pb)) {
                continue;
            }
            let hit = (self.affected.contains(&a) && self.affected.contains(&b))
                || (paths.contains(&a) && paths.contains(&b));
            let colour = if hit {
                Color32::from_rgba_unmultiplied(220, 40, 40, 200)
            } else {
                Color32::from_rgba_unmultiplied(120, 120, 140, faint)
            };
            line_quad(
                &mut edges,
                pa,
                pb,
                if hit { width * 1.8 } else { width },
                colour,
            );
        }
        painter.add(Shape::mesh(edges));
        // Nodes: one mesh of small octagons.
        let radius = (self.zoom * 9.0).clamp(1.5, 12.0);
        let mut dots = Mesh::default();
        let mut shown: Vec<u32> = Vec::new();
        for (i, node) in layout.nodes.iter().enumerate() {
            let id = u32::try_from(i).unwrap_or(u32::MAX);
            if !visible(id) {
                continue;
            }
            let p = to_screen(node.pos);
            if !view.contains(p) {
                continue;
            }
            let colour = if self.affected.contains(&id) {
                Color32::from_rgb(220, 40, 40)
            } else {
                self.colour_of(node)
            };
            octagon(&mut dots, p, radius, colour);
            shown.push(id);
        }
        painter.add(Shape::mesh(dots));
        for &c in &chokepoints {
            let p = to_screen(layout.nodes[c as usize].pos);
            painter.circle_stroke(
                p,
                radius + 3.0,
                Stroke::new(2.5, Color32::from_rgb(240, 150, 0)),
            );
        }
        if let Some(s) = self.selected {
            let p = to_screen(layout.nodes[s as usize].pos);
            painter.circle_stroke(
                p,
                radius + 5.0,
                Stroke::new(2.0, ui.visuals().strong_text_color()),
            );
        }
        // Labels where they fit.
        let font = egui::FontId::proportional(12.0);
        let text_colour = ui.visuals().text_color();
        let mut labels = 0;
        for &id in &shown {
            let node = &layout.nodes[id as usize];
            let important = node.kind == NodeKind::Technology
                || Some(id) == self.selected
                || chokepoints.contains(&id);
            // Everything is labelled once rows are far enough apart; before that only what
            // matters, and technologies once their labels no longer overlap.
            let rows_apart = ROW_GAP * self.zoom >= 11.0;
            let label = rows_apart
                || Some(id) == self.selected
                || chokepoints.contains(&id)
                || (important && self.focus == Some(id));
            if label && labels < MAX_LABELS {
                painter.text(
                    to_screen(node.pos) + vec2(radius + 3.0, 0.0),
                    egui::Align2::LEFT_CENTER,
                    &node.name,
                    font.clone(),
                    text_colour,
                );
                labels += 1;
            }
        }
        // Hover and click through the grid index.
        let pick = |pos: Pos2| {
            let world = to_world(pos, self.zoom, self.offset);
            layout
                .node_at(world, (radius + 4.0) / self.zoom)
                .filter(|n| visible(*n))
        };
        if let Some(pointer) = response.hover_pos()
            && let Some(node) = pick(pointer)
        {
            let n = &layout.nodes[node as usize];
            let mut text = format!("{} ({})", n.name, kind_name(n.kind));
            if let (Some(hhi), Some(top)) = (n.hhi, &n.top_country) {
                let _ = write!(text, "\nHHI {hhi:.0}, top supplier {top}");
            }
            egui::Tooltip::always_open(
                ui.ctx().clone(),
                ui.layer_id(),
                ui.scope_id().with("graph-tip"),
                egui::PopupAnchor::Pointer,
            )
            .show(|ui| {
                ui.label(text);
            });
        }
        if response.clicked() {
            self.selected = response.interact_pointer_pos().and_then(pick);
        }
        self.legend(ui, &painter, rect, &layout);
        if self.export.is_some() {
            let shown: BTreeSet<u32> = (0..layout.nodes.len())
                .filter_map(|i| u32::try_from(i).ok())
                .filter(|&n| self.visible(&layout, focus_set.as_ref(), n))
                .collect();
            self.export_window(ui.ctx(), &layout, &shown, commands);
        }
        self.layout = Some(layout);
    }

    /// Asks before writing a plaintext export, then writes it where the user chooses.
    fn export_window(
        &mut self,
        ctx: &egui::Context,
        layout: &GraphLayout,
        shown: &BTreeSet<u32>,
        commands: &mut Vec<Command>,
    ) {
        let Some(format) = self.export else { return };
        let (what, extension) = match format {
            ExportFormat::GraphMl => ("the whole graph as GraphML", "graphml"),
            ExportFormat::Svg => ("the nodes shown as an SVG picture", "svg"),
        };
        let mut close = false;
        egui::Window::new("Export the graph")
            .collapsible(false)
            .resizable(false)
            .show(ctx, |ui| {
                ui.label(format!(
                    "This writes {what} UNENCRYPTED. It holds records up to {}: mark, store and destroy the file accordingly.",
                    layout.level.marking()
                ));
                ui.horizontal(|ui| {
                    if ui.button("Choose a file and write").clicked() {
                        let name = format!("supply-graph.{extension}");
                        let picked = rfd::FileDialog::new().set_file_name(&name).save_file();
                        let message = match picked {
                            None => "No file chosen: nothing was written".to_owned(),
                            Some(path) => {
                                let text = match format {
                                    ExportFormat::GraphMl => layout.graphml(),
                                    ExportFormat::Svg => layout.svg(shown, |n| self.colour_of(n)),
                                };
                                match crate::fsutil::write_new_durable(&path, text.as_bytes(), None) {
                                    Ok(()) => format!(
                                        "Wrote {} (UNENCRYPTED, {})",
                                        path.display(),
                                        layout.level.marking()
                                    ),
                                    Err(e) => format!("Cannot write {}: {e}", path.display()),
                                }
                            }
                        };
                        commands.push(Command::Notify(message));
                        close = true;
                    }
                    if ui.button("Cancel").clicked() {
                        close = true;
                    }
                });
            });
        if close {
            self.export = None;
        }
    }

    /// Takes the newest positions of a running force layout; when it ends, keeps them.
    fn poll_force(&mut self, ctx: &egui::Context, commands: &mut Vec<Command>) {
        let Some(job) = &self.force else { return };
        let mut newest = None;
        let finished = loop {
            match job.positions.try_recv() {
                Ok(points) => newest = Some(points),
                Err(TryRecvError::Empty) => break false,
                Err(TryRecvError::Disconnected) => break true,
            }
        };
        if let (Some(points), Some(layout)) = (newest, &mut self.layout) {
            for (node, p) in layout.nodes.iter_mut().zip(points) {
                node.pos = p;
            }
            layout.reindex();
        }
        if finished {
            self.force = None;
            if let Some(layout) = &self.layout {
                commands.push(Command::SaveGraphPositions(layout.positions()));
            }
        } else {
            ctx.request_repaint_after(std::time::Duration::from_millis(30));
        }
    }

    /// Waits for a running force layout to finish (tests).
    pub fn wait_for_layout(&mut self) {
        if let Some(job) = &self.force {
            while job.positions.recv().is_ok() {}
        }
    }

    /// Where the node with this name was drawn in the last frame (tests, tools).
    #[must_use]
    pub fn screen_position(&self, name: &str) -> Option<Pos2> {
        let node = self
            .layout
            .as_ref()?
            .nodes
            .iter()
            .find(|n| n.name == name)?;
        Some((node.pos.to_vec2() * self.zoom + self.offset + self.last_centre).to_pos2())
    }

    /// Selects the node with this name (keyboard and tests).
    pub fn select_by_name(&mut self, name: &str) -> bool {
        let found = self
            .layout
            .as_ref()
            .and_then(|l| l.nodes.iter().position(|n| n.name == name))
            .and_then(|i| u32::try_from(i).ok());
        if found.is_some() {
            self.selected = found;
        }
        found.is_some()
    }

    fn card(
        &mut self,
        ui: &mut egui::Ui,
        layout: &GraphLayout,
        node: u32,
        commands: &mut Vec<Command>,
    ) {
        let Some(n) = layout.nodes.get(node as usize) else {
            return;
        };
        ui.group(|ui| {
            ui.horizontal_wrapped(|ui| {
                ui.strong(&n.name);
                ui.label(format!("({})", kind_name(n.kind)));
                if let (Some(hhi), Some(top)) = (n.hhi, &n.top_country) {
                    ui.label(format!("HHI {hhi:.0}, top supplier {top}"));
                }
                let needs = layout.dependencies[node as usize].len();
                let needed_by = layout.dependents[node as usize].len();
                ui.label(format!("depends on {needs}, needed by {needed_by}"));
                let kind = match n.kind {
                    NodeKind::Technology => Some(Kind::Technology),
                    NodeKind::Item => Some(Kind::Item),
                    NodeKind::Organisation => Some(Kind::Organisation),
                    NodeKind::Country => None,
                };
                if let (Some(kind), Ok(id)) = (kind, Uuid::parse_str(&n.id))
                    && ui.button("Open in editor").clicked()
                {
                    commands.push(Command::Edit(kind, Some(id)));
                }
                if matches!(n.kind, NodeKind::Technology | NodeKind::Item)
                    && let Ok(id) = Uuid::parse_str(&n.id)
                    && ui
                        .button("Timeline")
                        .on_hover_text("Show it on the timeline")
                        .clicked()
                {
                    commands.push(Command::ShowTimeline(id));
                }
                if n.kind == NodeKind::Technology && ui.button("Focus on it").clicked() {
                    self.focus = Some(node);
                }
                if ui.button("Deselect").clicked() {
                    self.selected = None;
                }
            });
        });
    }

    fn legend(&self, ui: &egui::Ui, painter: &egui::Painter, rect: Rect, layout: &GraphLayout) {
        let entries: Vec<(String, Color32)> = match self.colour {
            ColourBy::Kind => [
                NodeKind::Technology,
                NodeKind::Item,
                NodeKind::Organisation,
                NodeKind::Country,
            ]
            .iter()
            .map(|k| (kind_name(*k).to_owned(), kind_colour(*k)))
            .collect(),
            ColourBy::Concentration => [0.0, 2_500.0, 5_000.0, 7_500.0, 10_000.0]
                .iter()
                .map(|h| (format!("HHI {h:.0}"), hhi_colour(*h)))
                .collect(),
            ColourBy::Country => {
                let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
                for n in &layout.nodes {
                    if let Some(c) = &n.top_country {
                        *counts.entry(c.as_str()).or_default() += 1;
                    }
                }
                let mut top: Vec<(&str, usize)> = counts.into_iter().collect();
                top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
                top.into_iter()
                    .take(10)
                    .map(|(c, n)| (format!("{c} ({n} items)"), country_colour(c)))
                    .collect()
            }
        };
        let mut y = rect.top() + 10.0;
        let x = rect.right() - 170.0;
        for (label, colour) in entries {
            painter.circle_filled(pos2(x, y), 5.0, colour);
            painter.text(
                pos2(x + 10.0, y),
                egui::Align2::LEFT_CENTER,
                label,
                egui::FontId::proportional(12.0),
                ui.visuals().text_color(),
            );
            y += 16.0;
        }
    }
}

fn kind_name(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Technology => "technology",
        NodeKind::Item => "item",
        NodeKind::Organisation => "organisation",
        NodeKind::Country => "country",
    }
}

fn line_quad(mesh: &mut Mesh, from: Pos2, to: Pos2, width: f32, colour: Color32) {
    let along = to - from;
    let length = along.length();
    if length < 0.5 {
        return;
    }
    let normal = vec2(-along.y, along.x) / length * (width / 2.0);
    let first = u32::try_from(mesh.vertices.len()).unwrap_or(0);
    for corner in [from + normal, from - normal, to - normal, to + normal] {
        mesh.colored_vertex(corner, colour);
    }
    mesh.add_triangle(first, first + 1, first + 2);
    mesh.add_triangle(first, first + 2, first + 3);
}

fn octagon(mesh: &mut Mesh, c: Pos2, r: f32, colour: Color32) {
    let i = u32::try_from(mesh.vertices.len()).unwrap_or(0);
    mesh.colored_vertex(c, colour);
    for k in 0..8u8 {
        let a = f32::from(k) * std::f32::consts::TAU / 8.0;
        mesh.colored_vertex(c + vec2(a.cos(), a.sin()) * r, colour);
    }
    for k in 0..8u32 {
        mesh.add_triangle(i, i + 1 + k, i + 1 + (k + 1) % 8);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::GraphBuilder;

    fn small() -> GraphLayout {
        let mut b = GraphBuilder::default();
        b.node("t", NodeKind::Technology, "Radar <GaN>");
        b.node("w", NodeKind::Item, "Wafers & co");
        b.node("g", NodeKind::Item, "Gallium");
        b.input("t", "w", 1.0);
        b.input("w", "g", 1.0);
        b.supply("g", "CN", 0.9, None);
        b.supply("g", "JP", 0.1, None);
        let mut layout = GraphLayout::from_graph(&b.build());
        layout.level = Classification::Restricted;
        layout
    }

    #[test]
    fn layered_positions_follow_dependencies() {
        let layout = small();
        let x = |id: &str| layout.nodes[layout.find(id).unwrap_or(0) as usize].pos.x;
        assert!(x("t") < x("w") && x("w") < x("g") && x("g") < x("CN"));
        let g = layout.find("g").unwrap_or(0);
        assert_eq!(layout.node_at(layout.nodes[g as usize].pos, 5.0), Some(g));
        assert_eq!(layout.upstream(layout.find("t").unwrap_or(0), 2).len(), 3);
        let cut = layout.downstream_of(&[layout.find("CN").unwrap_or(0)]);
        assert_eq!(cut.len(), 4, "CN, gallium, wafers, radar");
        assert_eq!(
            layout.chokepoints_of(layout.find("t").unwrap_or(0)).len(),
            2,
            "wafers and gallium"
        );
    }

    #[test]
    fn graphml_and_svg_are_marked_and_escaped() {
        let layout = small();
        let xml = layout.graphml();
        assert!(xml.starts_with("<?xml"));
        assert_eq!(
            xml.matches("RESTREINT UE/EU RESTRICTED").count(),
            3,
            "{xml}"
        );
        assert_eq!(xml.matches("<node ").count(), 5);
        assert_eq!(xml.matches("<edge ").count(), 4);
        assert!(xml.contains("Radar &lt;GaN&gt;") && xml.contains("Wafers &amp; co"));
        let all: BTreeSet<u32> = (0..5).collect();
        let svg = layout.svg(&all, |_| Color32::RED);
        assert_eq!(
            svg.matches("RESTREINT UE/EU RESTRICTED").count(),
            2,
            "top and bottom"
        );
        assert_eq!(svg.matches("<circle").count(), 5);
        assert!(svg.trim_end().ends_with("</svg>"));
    }
}
