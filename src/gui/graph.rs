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
        let graph = SupplyGraph::from_records(
            &records.technologies,
            &records.items,
            &records.organisations,
            &records.links,
        );
        let mut layout = Self::from_graph(&graph);
        layout.level = level;
        layout
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
    /// Whether a node passes the filters and the focus.
    fn visible(&self, layout: &GraphLayout, focus: Option<&BTreeSet<u32>>, node: u32) -> bool {
        let n = &layout.nodes[node as usize];
        self.show[kind_index(n.kind)]
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
            ui.separator();
            for (i, label) in ["Technologies", "Items", "Organisations", "Countries"]
                .iter()
                .enumerate()
            {
                ui.checkbox(&mut self.show[i], *label);
            }
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
        let focus_set = self.focus.map(|f| layout.upstream(f, self.hops));
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
        // Pan and zoom (about the pointer).
        if response.dragged() {
            self.offset += response.drag_delta();
        }
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
            let hit = self.affected.contains(&a) && self.affected.contains(&b);
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
        self.layout = Some(layout);
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
