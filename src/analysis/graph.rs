//! The supply graph and the technology metrics computed on it: look-through exposure to
//! countries, chokepoints, supply risk and cut-off scenarios.
//!
//! # The graph
//! Nodes are technologies, items, organisations and countries. A node *depends on*:
//! - what it `requires` (links from a technology) and what is `input-to` it (links from the
//!   input to the node): its **inputs**;
//! - where it is made: `produced-in` links to countries and `supplied-by` links to
//!   organisations, with their shares: its **supply**. As for concentration (see [`super`]),
//!   one set of figures per node: the country figures where there are any (firm figures for
//!   the same node would count the same supply twice), else the firm figures; one source, its
//!   latest data year; totals over 1 scaled to 1, so that exposures stay shares. Regional
//!   aggregates and the unattributed rest are no nodes: they are supply not traced to a
//!   country;
//! - an organisation depends on its country (share 1): its one recorded production site, else
//!   its headquarters.
//!
//! `is-a` links are classification, not supply, and are not followed. Nodes are ordered by id
//! and every list by the id it points to, so results do not depend on the order records were
//! added in. Where dependencies form a cycle, the cycle is cut where it closes (in that order).
//!
//! # Look-through exposure (per technology, to each country, 0-1)
//! `E(country c) = {c: 1}`; `E(organisation) = E(its country)`; for any other node, its parts
//! are its own supply (when shares are recorded: `Σ share_s · E(s)`) and each of its inputs
//! (`E(input)`), and `E(node)` is the mean of its parts (each part counts equally: making the
//! node and obtaining each input are all needed). A node without parts has no known exposure.
//! Exposures of a node add up to at most 1; the rest is supply that is not recorded.
//!
//! # Chokepoints (per technology)
//! Items and organisations that lie on every path from the technology to any source (a
//! country, or a node with no recorded inputs or supply): losing one cuts the technology off
//! from every source. Computed once for the whole graph as the post-dominators of each node
//! (dominators, Cooper-Harvey-Kennedy, on the reversed graph rooted at a virtual sink that
//! every source feeds), listed nearest first. A node whose supply also goes to a region or the
//! unattributed rest reaches a source through them, so its listed suppliers are not on every
//! path. One organisation that makes all of a chokepoint
//! item (its firm figures name that firm alone, with no unattributed rest) is listed after the
//! item: a firm-level chokepoint, even when its country is an ally.
//!
//! # Supply risk (per technology, 0-10)
//! In the spirit of the EU raw-materials method (`SR = HHI_WGI × (1 − EoL_RIR) × SI`): each node
//! with recorded supply has `r = Σ_c share_c² · g_c × (1 − recycling rate)`, where `g_c` is the
//! country's governance risk (0-1: the score recorded with `observatory country CC
//! --governance S`, 0-10, divided by 10) where a score is recorded and 1 otherwise; following an
//! input whose link records a substitutability multiplies by 1 (none), 0.9 (low), 0.7 (medium)
//! or 0.4 (high). A technology's supply risk is 10 × the highest such value among everything
//! it depends on (its weakest link).
//!
//! # Scenario: "these countries stop supplying"
//! A technology loses `Σ_{c cut} E_T(c)` of its supply; the path that carries the largest part
//! of it is given (the product of the weights along it, as in the exposure).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::model::{Kind, Record, country};

/// What a node is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeKind {
    /// A critical technology.
    Technology,
    /// A value-chain element.
    Item,
    /// A supplier.
    Organisation,
    /// A country (ISO code).
    Country,
}

/// One node as added to a [`GraphBuilder`].
#[derive(Debug, Clone)]
struct NodeIn {
    kind: NodeKind,
    name: String,
    recycling: f64,
}

/// Collects nodes and edges in any order; [`GraphBuilder::build`] orders them.
#[derive(Debug, Default, Clone)]
pub struct GraphBuilder {
    nodes: BTreeMap<String, NodeIn>,
    /// (node, input, substitution factor)
    inputs: Vec<(String, String, f64)>,
    supply: Vec<SupplyIn>,
    /// organisation -> (country, from a production site rather than the headquarters)
    home: Vec<(String, String, bool)>,
    governance: BTreeMap<String, f64>,
    /// Figures of later data years are left out (`--year`).
    year_limit: Option<i64>,
}

/// One supply figure as added.
#[derive(Debug, Clone)]
struct SupplyIn {
    node: String,
    supplier: String,
    share: f64,
    year: Option<i64>,
    source: String,
    /// A firm-level figure whose supplier is not an organisation (the unattributed rest of
    /// the firm rows: "Various companies").
    firm_rest: bool,
}

/// (firm figures, source, data year)
type SupplyKey = (bool, String, Option<i64>);

/// Who a share goes to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Target {
    /// A country or organisation node.
    Node(u32),
    /// A regional aggregate (its code).
    Region(String),
    /// The unattributed rest.
    Unattributed,
}

/// The figures of one source for one node at its latest data year: shares summed per target.
#[derive(Debug, Clone)]
pub(crate) struct Figures {
    source: String,
    year: Option<i64>,
    shares: Vec<(Target, f64)>,
}

impl Figures {
    fn total(&self) -> f64 {
        self.shares.iter().fold(0.0, |a, (_, s)| a + s)
    }

    /// The shares of country and organisation nodes, times `scale`.
    fn nodes(&self, scale: f64) -> Vec<(u32, f64)> {
        self.shares
            .iter()
            .filter_map(|(t, s)| match t {
                Target::Node(b) => Some((*b, s * scale)),
                _ => None,
            })
            .collect()
    }

    /// Recorded shares add up to more than rounding allows: they are scaled to 1.
    fn scale(&self) -> f64 {
        let total = self.total();
        if total > 1.0 + super::ROUNDING_TOLERANCE {
            1.0 / total
        } else {
            1.0
        }
    }
}

/// A node's supply figures: by country (country rows) and by firm (organisation rows), each
/// per source; `chosen` is the index of the one the metrics use (see the module docs).
#[derive(Debug, Clone, Default)]
pub(crate) struct NodeFigures {
    country: Vec<Figures>,
    firm: Vec<Figures>,
    country_chosen: Option<usize>,
    firm_chosen: Option<usize>,
}

/// Picks the figures to use: the latest data year, then the highest total recorded (the most
/// complete), then the source id (so the choice is deterministic).
fn choose(figures: &[Figures]) -> Option<usize> {
    (0..figures.len()).max_by(|&a, &b| {
        let (fa, fb) = (&figures[a], &figures[b]);
        fa.year
            .cmp(&fb.year)
            .then(fa.total().total_cmp(&fb.total()))
            .then_with(|| fb.source.cmp(&fa.source))
    })
}

impl GraphBuilder {
    /// Adds a node (countries are added when something refers to them).
    pub fn node(&mut self, id: &str, kind: NodeKind, name: &str) {
        self.nodes.insert(
            id.to_owned(),
            NodeIn {
                kind,
                name: name.to_owned(),
                recycling: 0.0,
            },
        );
    }

    /// Sets the end-of-life recycling input rate (0-1) of a node.
    pub fn recycling(&mut self, id: &str, rate: f64) {
        if let Some(node) = self.nodes.get_mut(id) {
            node.recycling = rate.clamp(0.0, 1.0);
        }
    }

    /// `node` needs `input` (`requires` or `input-to`), with a substitution factor (1 = none).
    pub fn input(&mut self, node: &str, input: &str, factor: f64) {
        self.inputs
            .push((node.to_owned(), input.to_owned(), factor.clamp(0.0, 1.0)));
    }

    /// `node` is made by `supplier` (an organisation, a country or region code, or
    /// [`country::UNATTRIBUTED`]) for `share` of it.
    pub fn supply(&mut self, node: &str, supplier: &str, share: f64, year: Option<i64>) {
        self.supply_from(node, supplier, share, year, "");
    }

    /// [`Self::supply`] with the source the figure comes from (a source record id; figures of
    /// different sources are never added together).
    pub fn supply_from(
        &mut self,
        node: &str,
        supplier: &str,
        share: f64,
        year: Option<i64>,
        source: &str,
    ) {
        self.supply.push(SupplyIn {
            node: node.to_owned(),
            supplier: supplier.to_owned(),
            share,
            year,
            source: source.to_owned(),
            firm_rest: false,
        });
    }

    /// The unattributed rest of a node's firm-level figures ("Various companies").
    pub fn firm_rest(&mut self, node: &str, share: f64, year: Option<i64>, source: &str) {
        self.supply.push(SupplyIn {
            node: node.to_owned(),
            supplier: country::UNATTRIBUTED.to_owned(),
            share,
            year,
            source: source.to_owned(),
            firm_rest: true,
        });
    }

    /// An organisation's headquarters country.
    pub fn home(&mut self, organisation: &str, country: &str) {
        self.home
            .push((organisation.to_owned(), country.to_owned(), false));
    }

    /// An organisation's production site, when it records exactly one: it takes the place of
    /// the headquarters for the organisation's country.
    pub fn site(&mut self, organisation: &str, country: &str) {
        self.home
            .push((organisation.to_owned(), country.to_owned(), true));
    }

    /// Leaves out figures of data years after `year` (the latest year at or before it counts).
    #[must_use]
    pub fn at_year(mut self, year: Option<i64>) -> Self {
        self.year_limit = year;
        self
    }

    /// A country's governance risk, 0 (best) - 1 (worst).
    pub fn governance(&mut self, country: &str, risk: f64) {
        self.governance
            .insert(country.to_owned(), risk.clamp(0.0, 1.0));
    }

    /// The graph of the register's records (deleted records and links ignored).
    #[must_use]
    pub fn from_records(
        technologies: &[Record],
        items: &[Record],
        organisations: &[Record],
        links: &[Record],
    ) -> Self {
        let mut b = GraphBuilder::default();
        for (records, kind) in [
            (technologies, NodeKind::Technology),
            (items, NodeKind::Item),
            (organisations, NodeKind::Organisation),
        ] {
            for r in records.iter().filter(|r| !r.meta.deleted) {
                let id = r.meta.id.to_string();
                b.node(&id, kind, &r.label());
                if let Some(rate) = r.fields.get("recycling_rate").and_then(Value::as_f64) {
                    b.recycling(&id, rate);
                }
                if kind == NodeKind::Organisation {
                    let sites: Vec<String> = r
                        .fields
                        .get("production_countries")
                        .and_then(Value::as_array)
                        .map(|list| {
                            list.iter()
                                .filter_map(Value::as_str)
                                .filter_map(country::normalise)
                                .collect()
                        })
                        .unwrap_or_default();
                    if let [site] = sites.as_slice() {
                        b.site(&id, site);
                    } else if let Some(home) = r.text("hq_country").and_then(country::normalise) {
                        b.home(&id, &home);
                    }
                }
            }
        }
        for link in links
            .iter()
            .filter(|l| l.kind == Kind::Link && !l.meta.deleted)
        {
            let (Some(from), Some(to)) = (link.text("from_id"), link.text("to_id")) else {
                continue;
            };
            let factor = match link.text("substitutability") {
                Some("low") => 0.9,
                Some("medium") => 0.7,
                Some("high") => 0.4,
                _ => 1.0,
            };
            let share = link.fields.get("share").and_then(Value::as_f64);
            let year = link.fields.get("year").and_then(Value::as_i64);
            let source = link
                .fields
                .get("source_ids")
                .and_then(Value::as_array)
                .and_then(|s| s.first())
                .and_then(Value::as_str)
                .unwrap_or_default();
            match link.text("link_kind") {
                Some("requires") => b.input(from, to, factor),
                Some("input-to") => b.input(to, from, factor),
                Some(kind @ ("produced-in" | "supplied-by")) => {
                    if let Some(share) = share {
                        let to = country::supply_code(to).unwrap_or_else(|| to.to_owned());
                        if kind == "supplied-by" && to == country::UNATTRIBUTED {
                            b.firm_rest(from, share, year, source);
                        } else {
                            b.supply_from(from, &to, share, year, source);
                        }
                    }
                }
                _ => {}
            }
        }
        b
    }

    /// Orders everything and builds the graph. Edges to unknown records are dropped; country
    /// codes become country nodes.
    #[must_use]
    pub fn build(self) -> SupplyGraph {
        let mut nodes = self.nodes;
        let is_country = |id: &str| country::by_code(id).is_some();
        let add_country = |nodes: &mut BTreeMap<String, NodeIn>, id: &str| {
            if !nodes.contains_key(id) && is_country(id) {
                let name = country::by_code(id).map_or_else(|| id.to_owned(), |c| c.name.clone());
                nodes.insert(
                    id.to_owned(),
                    NodeIn {
                        kind: NodeKind::Country,
                        name,
                        recycling: 0.0,
                    },
                );
            }
        };
        // Each supplier once (there are far fewer suppliers than supply rows).
        let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
        for row in &self.supply {
            if seen.insert(row.supplier.as_str()) {
                add_country(&mut nodes, &row.supplier);
            }
        }
        for (_, home, _) in &self.home {
            if seen.insert(home.as_str()) {
                add_country(&mut nodes, home);
            }
        }
        let ids: Vec<String> = nodes.keys().cloned().collect();
        let index: HashMap<String, u32> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.clone(), u32::try_from(i).unwrap_or(u32::MAX)))
            .collect();
        let n = ids.len();
        // Kinds by index (nodes are in id order, like `ids`): no lookup by name per row.
        let kinds_by_index: Vec<NodeKind> = nodes.values().map(|v| v.kind).collect();
        let mut inputs: Vec<Vec<(u32, f64)>> = vec![Vec::new(); n];
        for (node, input, factor) in &self.inputs {
            if let (Some(&a), Some(&b)) = (index.get(node), index.get(input))
                && a != b
            {
                inputs[a as usize].push((b, *factor));
            }
        }
        // Supply: per node, basis (country or firm rows) and source, the latest data year
        // (at or before the year limit); shares of one target added.
        let mut raw: Vec<BTreeMap<SupplyKey, BTreeMap<Target, f64>>> = vec![BTreeMap::new(); n];
        for row in &self.supply {
            if row
                .year
                .is_some_and(|y| self.year_limit.is_some_and(|limit| y > limit))
            {
                continue;
            }
            let Some(&a) = index.get(&row.node) else {
                continue;
            };
            // A node first (most rows): regions and the unattributed rest are never nodes.
            let (target, firm) = if row.firm_rest {
                (Target::Unattributed, true)
            } else if let Some(&b) = index.get(&row.supplier) {
                if a == b {
                    continue;
                }
                let is_org = kinds_by_index.get(b as usize) == Some(&NodeKind::Organisation);
                (Target::Node(b), is_org)
            } else if row.supplier == country::UNATTRIBUTED {
                (Target::Unattributed, false)
            } else if let Some(r) = country::region(&row.supplier) {
                (Target::Region(r.code.to_owned()), false)
            } else {
                continue;
            };
            *raw[a as usize]
                .entry((firm, row.source.clone(), row.year))
                .or_default()
                .entry(target)
                .or_default() += row.share;
        }
        let mut figures: Vec<NodeFigures> = vec![NodeFigures::default(); n];
        for (i, by_key) in raw.into_iter().enumerate() {
            // The latest year of each (basis, source); undated figures only where none is dated.
            let mut latest: BTreeMap<(bool, String), Option<i64>> = BTreeMap::new();
            for (firm, source, year) in by_key.keys() {
                let slot = latest.entry((*firm, source.clone())).or_insert(*year);
                if *year > *slot {
                    *slot = *year;
                }
            }
            for ((firm, source, year), shares) in by_key {
                if latest.get(&(firm, source.clone())) != Some(&year) {
                    continue;
                }
                let f = Figures {
                    source,
                    year,
                    shares: shares.into_iter().filter(|(_, s)| *s > 0.0).collect(),
                };
                if f.shares.is_empty() {
                    continue;
                }
                if firm {
                    figures[i].firm.push(f);
                } else {
                    figures[i].country.push(f);
                }
            }
            figures[i].country_chosen = choose(&figures[i].country);
            figures[i].firm_chosen = choose(&figures[i].firm);
        }
        // The graph's supply edges: the country figures where there are any (firms would count
        // the same supply twice), else the firm figures; scaled to 1 when over it, so that
        // exposures stay shares. Regions and the unattributed rest are no nodes.
        let mut supply: Vec<Vec<(u32, f64)>> = vec![Vec::new(); n];
        // Supply that also goes to a region or the unattributed rest: a path to a source that
        // passes none of the listed suppliers.
        let mut open_supply = vec![false; n];
        for (i, f) in figures.iter().enumerate() {
            let chosen = f
                .country_chosen
                .map(|c| &f.country[c])
                .or_else(|| f.firm_chosen.map(|c| &f.firm[c]));
            if let Some(fig) = chosen {
                let total = fig.total();
                supply[i] = fig.nodes(if total > 1.0 { 1.0 / total } else { 1.0 });
                open_supply[i] = fig
                    .shares
                    .iter()
                    .any(|(t, _)| !matches!(t, Target::Node(_)));
            }
        }
        let mut home: Vec<Option<u32>> = vec![None; n];
        let mut home_is_site = vec![false; n];
        for (org, c, site) in &self.home {
            if let (Some(&a), Some(&b)) = (index.get(org), index.get(c)) {
                home[a as usize] = Some(b);
                home_is_site[a as usize] = *site;
            }
        }
        for list in &mut inputs {
            // The same input twice: the most substitutable link counts (lowest factor first).
            list.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
            list.dedup_by_key(|e| e.0);
        }
        let values: Vec<NodeIn> = nodes.into_values().collect();
        let countries: Vec<u32> = values
            .iter()
            .enumerate()
            .filter(|(_, v)| v.kind == NodeKind::Country)
            .map(|(i, _)| u32::try_from(i).unwrap_or(u32::MAX))
            .collect();
        let governance = countries
            .iter()
            .map(|&c| {
                self.governance
                    .get(&ids[c as usize])
                    .copied()
                    .unwrap_or(1.0)
            })
            .collect();
        SupplyGraph {
            kinds: values.iter().map(|v| v.kind).collect(),
            names: values.iter().map(|v| v.name.clone()).collect(),
            recycling: values.iter().map(|v| v.recycling).collect(),
            ids,
            index,
            inputs,
            supply,
            open_supply,
            figures,
            home,
            home_is_site,
            countries,
            governance,
            computed: std::sync::OnceLock::new(),
        }
    }
}

/// The supply graph (see the module docs).
#[derive(Debug, Clone)]
pub struct SupplyGraph {
    ids: Vec<String>,
    names: Vec<String>,
    kinds: Vec<NodeKind>,
    recycling: Vec<f64>,
    index: HashMap<String, u32>,
    inputs: Vec<Vec<(u32, f64)>>,
    supply: Vec<Vec<(u32, f64)>>,
    /// The supply also goes to a region or the unattributed rest (see `post_dominators`).
    open_supply: Vec<bool>,
    /// Supply figures as recorded (per basis and source, latest year), for concentration.
    figures: Vec<NodeFigures>,
    home: Vec<Option<u32>>,
    /// The organisation's country is its one production site, not its headquarters.
    home_is_site: Vec<bool>,
    /// Country nodes, in order; a country's column in exposure vectors is its position here.
    countries: Vec<u32>,
    governance: Vec<f64>,
    /// The dependency order, the parts used and the exposures, computed once.
    computed: std::sync::OnceLock<Computed>,
}

/// What every metric needs, computed once per graph.
#[derive(Debug, Clone)]
struct Computed {
    order: Vec<u32>,
    parts: Vec<Vec<Part>>,
    exposure: Vec<Exposure>,
}

/// What a node depends on: (child, weight, substitution factor).
type Part = (u32, f64, f64);

/// A sparse distribution over countries: (column, share), sorted by column.
type Exposure = Vec<(u32, f64)>;

/// Country concentration of one set of figures.
struct CountryView {
    shares: BTreeMap<String, f64>,
    hhi: f64,
    eu_share: f64,
    top_country: String,
    top_share: f64,
    single_source: bool,
    unattributed: f64,
    region: f64,
    basis: &'static str,
}

/// Metrics of one technology.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TechnologyMetrics {
    /// Technology id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Items and organisations on every path to a source, nearest first (ids).
    pub chokepoints: Vec<String>,
    /// Look-through exposure: country code -> share 0-1.
    pub exposure: BTreeMap<String, f64>,
    /// Supply risk 0-10 (None: nothing it depends on has recorded supply).
    pub supply_risk: Option<f64>,
}

/// What a cut-off scenario does to one technology.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScenarioImpact {
    /// Technology id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Share of its supply lost, 0-1.
    pub lost_share: f64,
    /// The path that carries the largest part of the loss (ids, technology first, country
    /// last), and that part.
    pub path: Vec<String>,
    /// The part of the loss the path carries, 0-1.
    pub path_share: f64,
}

impl SupplyGraph {
    /// The graph of the register's records.
    #[must_use]
    pub fn from_records(
        technologies: &[Record],
        items: &[Record],
        organisations: &[Record],
        links: &[Record],
    ) -> Self {
        GraphBuilder::from_records(technologies, items, organisations, links).build()
    }

    /// Number of nodes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are no nodes.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Number of dependency edges (inputs, supply, organisation homes).
    #[must_use]
    pub fn edge_count(&self) -> usize {
        self.inputs.iter().map(Vec::len).sum::<usize>()
            + self.supply.iter().map(Vec::len).sum::<usize>()
            + self.home.iter().flatten().count()
    }

    /// The node with this id.
    #[must_use]
    pub fn node(&self, id: &str) -> Option<u32> {
        self.index.get(id).copied()
    }

    /// A node's id (record id or country code).
    #[must_use]
    pub fn id(&self, node: u32) -> &str {
        self.ids.get(node as usize).map_or("", String::as_str)
    }

    /// What a node is.
    #[must_use]
    pub fn kind(&self, node: u32) -> NodeKind {
        self.kinds
            .get(node as usize)
            .copied()
            .unwrap_or(NodeKind::Country)
    }

    /// For every node upstream of a technology, the ids of the technologies that need it: a
    /// technology needs what it `requires`, a node what is `input-to` it. Suppliers
    /// (organisations, countries) are not followed: they are not inputs.
    #[must_use]
    pub fn needed_by(&self) -> BTreeMap<String, Vec<String>> {
        let mut needed: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for t in self.technologies() {
            let mut seen = BTreeSet::new();
            let mut stack: Vec<u32> = self.inputs[t as usize].iter().map(|e| e.0).collect();
            while let Some(node) = stack.pop() {
                if seen.insert(node) {
                    stack.extend(self.inputs[node as usize].iter().map(|e| e.0));
                }
            }
            for node in seen {
                needed
                    .entry(self.ids[node as usize].clone())
                    .or_default()
                    .push(self.ids[t as usize].clone());
            }
        }
        needed
    }

    /// What a node depends on (inputs, suppliers, an organisation's country), in id order.
    #[must_use]
    pub fn dependencies(&self, node: u32) -> Vec<u32> {
        let i = node as usize;
        if i >= self.ids.len() {
            return Vec::new();
        }
        let mut all = self.all_parts(i);
        all.sort_unstable();
        all.dedup();
        all
    }

    /// A node's name.
    #[must_use]
    pub fn name(&self, node: u32) -> &str {
        self.names.get(node as usize).map_or("", String::as_str)
    }

    /// The technologies, in id order.
    pub fn technologies(&self) -> impl Iterator<Item = u32> + '_ {
        (0..self.ids.len())
            .filter(|&i| self.kinds[i] == NodeKind::Technology)
            .map(|i| u32::try_from(i).unwrap_or(u32::MAX))
    }

    /// What a node depends on: (child, weight, substitution factor), weight as in the
    /// exposure (the part's weight times the supplier's share).
    fn parts(&self, node: u32) -> Vec<Part> {
        let i = node as usize;
        match self.kinds[i] {
            NodeKind::Country => Vec::new(),
            NodeKind::Organisation => self.home[i]
                .map(|c| vec![(c, 1.0, 1.0)])
                .unwrap_or_default(),
            _ => {
                let supply = &self.supply[i];
                let inputs = &self.inputs[i];
                let count = inputs.len() + usize::from(!supply.is_empty());
                if count == 0 {
                    return Vec::new();
                }
                #[allow(clippy::cast_precision_loss)] // a node's parts are few
                let weight = 1.0 / count as f64;
                supply
                    .iter()
                    .map(|&(s, share)| (s, weight * share, 1.0))
                    .chain(inputs.iter().map(|&(c, factor)| (c, weight, factor)))
                    .collect()
            }
        }
    }

    /// Visits nodes so that each comes after what it depends on (post-order from every node
    /// in id order; a dependency that closes a cycle is skipped). Returns the order and, for
    /// each node, which of its parts to use.
    fn order(&self) -> (Vec<u32>, Vec<Vec<Part>>) {
        let n = self.ids.len();
        let mut state = vec![0u8; n];
        let mut order = Vec::with_capacity(n);
        let mut parts: Vec<Vec<Part>> = vec![Vec::new(); n];
        for start in 0..n {
            if state[start] != 0 {
                continue;
            }
            let start = u32::try_from(start).unwrap_or(u32::MAX);
            // (node, its parts, next part to look at)
            let mut stack: Vec<(u32, Vec<Part>, usize)> = vec![(start, self.parts(start), 0)];
            state[start as usize] = 1;
            while let Some((node, node_parts, next)) = stack.last_mut() {
                if let Some(&(child, _, _)) = node_parts.get(*next) {
                    *next += 1;
                    match state[child as usize] {
                        0 => {
                            state[child as usize] = 1;
                            let child_parts = self.parts(child);
                            stack.push((child, child_parts, 0));
                        }
                        1 => {
                            // Closes a cycle: cut here.
                            let at = *next - 1;
                            node_parts[at].1 = 0.0;
                            node_parts[at].0 = u32::MAX;
                        }
                        _ => {}
                    }
                } else {
                    let node = *node;
                    let done: Vec<Part> = std::mem::take(node_parts)
                        .into_iter()
                        .filter(|p| p.0 != u32::MAX)
                        .collect();
                    parts[node as usize] = done;
                    state[node as usize] = 2;
                    order.push(node);
                    stack.pop();
                }
            }
        }
        (order, parts)
    }

    /// Look-through exposure of every node (see the module docs).
    fn exposures(&self, order: &[u32], parts: &[Vec<Part>]) -> Vec<Exposure> {
        let n = self.ids.len();
        let column: HashMap<u32, u32> = self
            .countries
            .iter()
            .enumerate()
            .map(|(col, &node)| (node, u32::try_from(col).unwrap_or(u32::MAX)))
            .collect();
        let mut exposure: Vec<Exposure> = vec![Vec::new(); n];
        let mut dense = vec![0.0f64; self.countries.len()];
        let mut touched: Vec<u32> = Vec::new();
        for &node in order {
            let i = node as usize;
            if self.kinds[i] == NodeKind::Country {
                if let Some(&col) = column.get(&node) {
                    exposure[i] = vec![(col, 1.0)];
                }
                continue;
            }
            for &(child, weight, _) in &parts[i] {
                for &(col, share) in &exposure[child as usize] {
                    let slot = &mut dense[col as usize];
                    if *slot == 0.0 {
                        touched.push(col);
                    }
                    *slot += weight * share;
                }
            }
            touched.sort_unstable();
            touched.dedup();
            exposure[i] = touched
                .iter()
                .map(|&col| (col, std::mem::take(&mut dense[col as usize]).min(1.0)))
                .filter(|(_, s)| *s > 0.0)
                .collect();
            touched.clear();
        }
        exposure
    }

    /// Post-dominator chains: for each node, its immediate post-dominator (None: the sink).
    /// Cooper, Harvey and Kennedy's iterative algorithm ("A simple, fast dominance
    /// algorithm", 2001) on the reversed graph, rooted at a virtual sink fed by every source.
    fn post_dominators(&self) -> Vec<Option<u32>> {
        const UNDEFINED: u32 = u32::MAX;
        let n = self.ids.len();
        let sink = u32::try_from(n).unwrap_or(UNDEFINED - 1);
        // In the reversed graph, a node's successors are the nodes that depend on it, and its
        // predecessors are what it depends on; the sink precedes every source.
        let mut dependents: Vec<Vec<u32>> = vec![Vec::new(); n + 1];
        let mut depends_on: Vec<Vec<u32>> = vec![Vec::new(); n + 1];
        for (i, own) in depends_on.iter_mut().enumerate().take(n) {
            let node = u32::try_from(i).unwrap_or(UNDEFINED);
            let all = self.all_parts(i);
            // No recorded dependency, or supply that also goes somewhere unnamed (a region,
            // the unattributed rest): the node reaches a source without its listed suppliers.
            if all.is_empty() || self.open_supply[i] {
                dependents[n].push(node);
                own.push(sink);
            }
            for child in all {
                dependents[child as usize].push(node);
                own.push(child);
            }
        }
        // Post-order numbers of a depth-first search from the sink.
        let mut number = vec![UNDEFINED; n + 1];
        let mut by_number: Vec<u32> = Vec::with_capacity(n + 1);
        let mut visited = vec![false; n + 1];
        let mut stack: Vec<(u32, usize)> = vec![(sink, 0)];
        visited[n] = true;
        while let Some((node, next)) = stack.last_mut() {
            let node_index = *node as usize;
            if let Some(&succ) = dependents[node_index].get(*next) {
                *next += 1;
                if !visited[succ as usize] {
                    visited[succ as usize] = true;
                    stack.push((succ, 0));
                }
            } else {
                number[node_index] = u32::try_from(by_number.len()).unwrap_or(UNDEFINED);
                by_number.push(*node);
                stack.pop();
            }
        }
        let mut idom = vec![UNDEFINED; n + 1];
        idom[n] = sink;
        let intersect = |idom: &[u32], mut a: u32, mut b: u32| {
            while a != b {
                while number[a as usize] < number[b as usize] {
                    a = idom[a as usize];
                }
                while number[b as usize] < number[a as usize] {
                    b = idom[b as usize];
                }
            }
            a
        };
        let mut changed = true;
        while changed {
            changed = false;
            // Reverse post-order, the sink (last) excluded.
            for &node in by_number.iter().rev().skip(1) {
                let mut new_idom = UNDEFINED;
                for &pred in &depends_on[node as usize] {
                    if idom[pred as usize] == UNDEFINED {
                        continue;
                    }
                    new_idom = if new_idom == UNDEFINED {
                        pred
                    } else {
                        intersect(&idom, pred, new_idom)
                    };
                }
                if new_idom != UNDEFINED && idom[node as usize] != new_idom {
                    idom[node as usize] = new_idom;
                    changed = true;
                }
            }
        }
        idom.truncate(n);
        idom.into_iter()
            .map(|d| (d != UNDEFINED && d != sink).then_some(d))
            .collect()
    }

    /// Every dependency of a node, cycles included (for dominators).
    fn all_parts(&self, i: usize) -> Vec<u32> {
        match self.kinds[i] {
            NodeKind::Country => Vec::new(),
            NodeKind::Organisation => self.home[i].into_iter().collect(),
            _ => self.supply[i]
                .iter()
                .map(|s| s.0)
                .chain(self.inputs[i].iter().map(|c| c.0))
                .collect(),
        }
    }

    /// Highest weighted risk among what each node depends on (itself included).
    fn risks(&self, order: &[u32], parts: &[Vec<Part>]) -> Vec<Option<f64>> {
        let n = self.ids.len();
        let column: HashMap<u32, usize> = self
            .countries
            .iter()
            .enumerate()
            .map(|(col, &node)| (node, col))
            .collect();
        let mut worst: Vec<Option<f64>> = vec![None; n];
        for &node in order {
            let i = node as usize;
            let own = if self.supply[i].is_empty() {
                None
            } else {
                // Concentration by country (organisations counted for their country).
                let mut by_country: BTreeMap<u32, f64> = BTreeMap::new();
                for &(s, share) in &self.supply[i] {
                    let c = match self.kinds[s as usize] {
                        NodeKind::Country => Some(s),
                        _ => self.home[s as usize],
                    };
                    if let Some(c) = c {
                        *by_country.entry(c).or_default() += share;
                    }
                }
                let hhi = by_country.iter().fold(0.0, |acc, (c, s)| {
                    let g = column.get(c).map_or(1.0, |&col| self.governance[col]);
                    acc + s * s * g
                });
                Some((hhi * (1.0 - self.recycling[i])).clamp(0.0, 1.0))
            };
            let inherited = parts[i]
                .iter()
                .filter(|p| self.kinds[p.0 as usize] != NodeKind::Country)
                .filter_map(|&(child, _, factor)| worst[child as usize].map(|r| r * factor))
                .fold(None, |acc: Option<f64>, r| {
                    Some(acc.map_or(r, |a| a.max(r)))
                });
            worst[i] = match (own, inherited) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
        }
        worst
    }

    /// Country concentration of one set of figures; `firms`: the figures are firm rows,
    /// counted for each firm's country.
    fn country_view(&self, fig: &Figures, firms: bool) -> CountryView {
        let scale = fig.scale();
        let mut by_country: BTreeMap<&str, f64> = BTreeMap::new();
        let mut regions: BTreeMap<&str, f64> = BTreeMap::new();
        let mut rest = 0.0;
        let (mut by_hq, mut by_site) = (false, false);
        for (target, share) in &fig.shares {
            let share = share * scale;
            match target {
                Target::Node(b) => {
                    let b = *b as usize;
                    let c = match self.kinds[b] {
                        NodeKind::Country => Some(b),
                        NodeKind::Organisation => {
                            let home = self.home[b].map(|h| h as usize);
                            if home.is_some() {
                                if self.home_is_site[b] {
                                    by_site = true;
                                } else {
                                    by_hq = true;
                                }
                            }
                            home
                        }
                        _ => None,
                    };
                    match c {
                        Some(c) => *by_country.entry(self.ids[c].as_str()).or_default() += share,
                        None => rest += share,
                    }
                }
                Target::Region(code) => *regions.entry(code.as_str()).or_default() += share,
                Target::Unattributed => rest += share,
            }
        }
        let hhi = by_country
            .values()
            .chain(regions.values())
            .map(|s| (s * 100.0).powi(2))
            .fold(0.0, |a: f64, b| a + b)
            .min(10_000.0);
        // fold from +0.0: an empty float sum is -0.0, which prints as "-0.0 %".
        let eu_share = by_country
            .iter()
            .filter(|(c, _)| country::is_eu(c))
            .fold(0.0, |total, (_, s)| total + s);
        let (top_country, top_share) = by_country
            .iter()
            .max_by(|a, b| a.1.total_cmp(b.1).then_with(|| b.0.cmp(a.0)))
            .map_or((String::new(), 0.0), |(c, s)| ((*c).to_owned(), *s));
        let basis = match (firms, by_hq, by_site) {
            (false, _, _) => "country rows",
            (true, true, true) => "firms by headquarters and production site",
            (true, false, true) => "firms by production site",
            (true, _, false) => "firms by headquarters",
        };
        let shares = by_country
            .iter()
            .chain(regions.iter())
            .map(|(c, s)| ((*c).to_owned(), *s))
            .collect();
        CountryView {
            shares,
            hhi,
            eu_share,
            top_country,
            top_share,
            // One country, nothing beside it, and it makes (nearly) all of the item: one
            // country at 2 % with the rest unrecorded is no single source.
            single_source: by_country.len() == 1
                && regions.is_empty()
                && rest <= 1e-9
                && top_share >= 1.0 - super::ROUNDING_TOLERANCE,
            unattributed: rest,
            region: regions.values().fold(0.0, |a, b| a + b),
            basis,
        }
    }

    /// The one organisation that supplies all of a node (no other firm, no unattributed
    /// rest, at least 98 % recorded), from its chosen firm figures.
    fn single_firm(&self, node: usize) -> Option<u32> {
        let f = &self.figures[node];
        let fig = &f.firm[f.firm_chosen?];
        match fig.shares.as_slice() {
            [(Target::Node(org), share)]
                if share * fig.scale() >= 1.0 - super::ROUNDING_TOLERANCE =>
            {
                Some(*org)
            }
            _ => None,
        }
    }

    /// Concentration of the supply of every item with recorded shares (see the
    /// [`super`] module docs), highest HHI first, then by name and id.
    #[must_use]
    pub fn item_metrics(&self) -> Vec<super::ItemConcentration> {
        let mut out: Vec<super::ItemConcentration> = (0..self.ids.len())
            .filter(|&i| self.kinds[i] == NodeKind::Item)
            .filter_map(|i| {
                let f = &self.figures[i];
                // Country figures where the source has them, else the firms' countries.
                let (list, firms) = if f.country.is_empty() {
                    (&f.firm, true)
                } else {
                    (&f.country, false)
                };
                let chosen = if firms {
                    f.firm_chosen
                } else {
                    f.country_chosen
                }?;
                let views: Vec<(usize, CountryView)> = list
                    .iter()
                    .enumerate()
                    .map(|(k, fig)| (k, self.country_view(fig, firms)))
                    .collect();
                let view = views.iter().find(|(k, _)| *k == chosen).map(|(_, v)| v)?;
                let sources: Vec<super::SourceFigure> = views
                    .iter()
                    .map(|(k, v)| super::SourceFigure {
                        source: list[*k].source.clone(),
                        year: list[*k].year,
                        hhi: v.hhi,
                        top_country: v.top_country.clone(),
                        top_share: v.top_share,
                        chosen: *k == chosen,
                    })
                    .collect();
                let source_spread = (sources.len() > 1).then(|| {
                    let (lo, hi) = sources.iter().fold((f64::MAX, f64::MIN), |(lo, hi), s| {
                        (lo.min(s.hhi), hi.max(s.hhi))
                    });
                    hi - lo
                });
                // Firm concentration, over organisations.
                let firm = f.firm_chosen.map(|c| &f.firm[c]);
                let mut firm_hhi = None;
                let mut top_organisation = None;
                let mut top_organisation_share = None;
                let mut firm_year = None;
                if let Some(fig) = firm {
                    let orgs = fig.nodes(fig.scale());
                    if !orgs.is_empty() {
                        firm_hhi = Some(
                            orgs.iter()
                                .map(|(_, s)| (s * 100.0).powi(2))
                                .fold(0.0, |a: f64, b| a + b)
                                .min(10_000.0),
                        );
                        if let Some((org, share)) = orgs.iter().max_by(|a, b| {
                            a.1.total_cmp(&b.1).then_with(|| {
                                self.names[b.0 as usize].cmp(&self.names[a.0 as usize])
                            })
                        }) {
                            top_organisation = Some(self.names[*org as usize].clone());
                            top_organisation_share = Some(*share);
                        }
                    }
                    firm_year = fig.year;
                }
                Some(super::ItemConcentration {
                    id: Uuid::parse_str(&self.ids[i]).unwrap_or_default(),
                    name: self.names[i].clone(),
                    hhi: view.hhi,
                    eu_share: view.eu_share,
                    top_country: view.top_country.clone(),
                    top_share: view.top_share,
                    single_source: view.single_source,
                    year: list[chosen].year,
                    country_basis: view.basis.to_owned(),
                    country_shares: view.shares.clone(),
                    unattributed_share: view.unattributed,
                    region_share: view.region,
                    firm_hhi,
                    top_organisation,
                    top_organisation_share,
                    single_firm: self.single_firm(i).is_some(),
                    firm_year,
                    source: list[chosen].source.clone(),
                    sources,
                    source_spread,
                })
            })
            .collect();
        out.sort_by(|a, b| {
            b.hhi
                .total_cmp(&a.hhi)
                .then_with(|| a.name.cmp(&b.name))
                .then(a.id.cmp(&b.id))
        });
        out
    }

    fn computed(&self) -> &Computed {
        self.computed.get_or_init(|| {
            let (order, parts) = self.order();
            let exposure = self.exposures(&order, &parts);
            Computed {
                order,
                parts,
                exposure,
            }
        })
    }

    /// Exposure, chokepoints and supply risk of every technology (or only `only`), sorted by
    /// name then id.
    #[must_use]
    pub fn technology_metrics(&self, only: Option<&str>) -> Vec<TechnologyMetrics> {
        let Computed {
            order,
            parts,
            exposure,
        } = self.computed();
        let idom = self.post_dominators();
        let risks = self.risks(order, parts);
        let mut out: Vec<TechnologyMetrics> = self
            .technologies()
            .filter(|&t| only.is_none_or(|id| self.ids[t as usize] == id))
            .map(|t| {
                let i = t as usize;
                let mut chokepoints = Vec::new();
                let mut seen = BTreeSet::new();
                let mut at = idom[i];
                while let Some(d) = at {
                    if !seen.insert(d) {
                        break;
                    }
                    if matches!(
                        self.kinds[d as usize],
                        NodeKind::Item | NodeKind::Organisation
                    ) {
                        chokepoints.push(self.ids[d as usize].clone());
                    }
                    // One firm that makes all of a chokepoint item is a chokepoint too, even
                    // where the country figures name several countries or an ally.
                    if self.kinds[d as usize] == NodeKind::Item
                        && let Some(org) = self.single_firm(d as usize)
                        && seen.insert(org)
                    {
                        chokepoints.push(self.ids[org as usize].clone());
                    }
                    at = idom[d as usize];
                }
                TechnologyMetrics {
                    id: self.ids[i].clone(),
                    name: self.names[i].clone(),
                    chokepoints,
                    exposure: exposure[i]
                        .iter()
                        .map(|&(col, share)| {
                            (
                                self.ids[self.countries[col as usize] as usize].clone(),
                                share,
                            )
                        })
                        .collect(),
                    supply_risk: risks[i].map(|r| (r * 10.0 * 1e6).round() / 1e6),
                }
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
        out
    }

    /// What losing the supply of `cut` (country codes) does to each technology, largest loss
    /// first (then by name and id); technologies that lose nothing are left out.
    #[must_use]
    pub fn scenario(&self, cut: &[String]) -> Vec<ScenarioImpact> {
        let Computed {
            order,
            parts,
            exposure,
        } = self.computed();
        let cut_nodes: BTreeSet<u32> = cut
            .iter()
            .filter_map(|c| country::normalise(c))
            .filter_map(|c| self.node(&c))
            .collect();
        let cut_columns: BTreeSet<u32> = self
            .countries
            .iter()
            .enumerate()
            .filter(|(_, node)| cut_nodes.contains(node))
            .map(|(col, _)| u32::try_from(col).unwrap_or(u32::MAX))
            .collect();
        // Strongest path to a cut country: best[node] = (weight, next).
        let mut best: Vec<(f64, Option<u32>)> = vec![(0.0, None); self.ids.len()];
        for &node in order {
            let i = node as usize;
            if cut_nodes.contains(&node) {
                best[i] = (1.0, None);
                continue;
            }
            for &(child, weight, _) in &parts[i] {
                let through = weight * best[child as usize].0;
                if through > best[i].0 {
                    best[i] = (through, Some(child));
                }
            }
        }
        let mut out: Vec<ScenarioImpact> = self
            .technologies()
            .filter_map(|t| {
                let i = t as usize;
                let lost: f64 = exposure[i]
                    .iter()
                    .filter(|(col, _)| cut_columns.contains(col))
                    .fold(0.0, |a, (_, s)| a + s);
                if lost <= 0.0 {
                    return None;
                }
                let mut path = vec![self.ids[i].clone()];
                let mut at = best[i].1;
                while let Some(next) = at {
                    path.push(self.ids[next as usize].clone());
                    at = best[next as usize].1;
                    if path.len() > self.ids.len() {
                        break;
                    }
                }
                Some(ScenarioImpact {
                    id: self.ids[i].clone(),
                    name: self.names[i].clone(),
                    lost_share: lost.min(1.0),
                    path,
                    path_share: best[i].0,
                })
            })
            .collect();
        out.sort_by(|a, b| {
            b.lost_share
                .total_cmp(&a.lost_share)
                .then_with(|| a.name.cmp(&b.name))
                .then_with(|| a.id.cmp(&b.id))
        });
        out
    }
}

/// Parses ids of technologies given as UUID text (for `--technology`).
#[must_use]
pub fn parse_id(text: &str) -> Option<String> {
    Uuid::parse_str(text.trim()).ok().map(|u| u.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// T requires A and B; A is made in CN (60 %) and US (40 %); B is made by O (German) and
    /// needs C (substitutable: high), which is made in CN only; B is half recycled.
    /// T2 requires B only; T3 requires D, made by O only.
    fn example() -> SupplyGraph {
        let mut b = GraphBuilder::default();
        for (id, kind) in [
            ("T", NodeKind::Technology),
            ("T2", NodeKind::Technology),
            ("T3", NodeKind::Technology),
            ("A", NodeKind::Item),
            ("B", NodeKind::Item),
            ("C", NodeKind::Item),
            ("D", NodeKind::Item),
            ("O", NodeKind::Organisation),
        ] {
            b.node(id, kind, id);
        }
        b.input("T", "A", 1.0);
        b.input("T", "B", 1.0);
        b.input("T2", "B", 1.0);
        b.input("T3", "D", 1.0);
        b.supply("A", "CN", 0.6, Some(2023));
        b.supply("A", "US", 0.4, Some(2023));
        b.supply("A", "FR", 0.9, Some(2019)); // older figure: history, not used
        b.supply("B", "O", 1.0, None);
        b.input("B", "C", 0.4);
        b.recycling("B", 0.5);
        b.supply("C", "CN", 1.0, None);
        b.supply("D", "O", 1.0, None);
        b.home("O", "DE");
        b.build()
    }

    fn metrics(graph: &SupplyGraph, id: &str) -> TechnologyMetrics {
        graph
            .technology_metrics(Some(id))
            .pop()
            .expect("technology")
    }

    #[test]
    fn exposure_chokepoints_risk_and_scenario_by_hand() {
        let graph = example();
        let t = metrics(&graph, "T");
        // E(A) = CN .6, US .4; E(B) = mean(E(O) = DE 1, E(C) = CN 1) = DE .5, CN .5;
        // E(T) = mean(E(A), E(B)).
        let expected = [("CN", 0.55), ("DE", 0.25), ("US", 0.2)];
        assert_eq!(t.exposure.len(), 3);
        for (c, share) in expected {
            assert!(
                (t.exposure[c] - share).abs() < 1e-12,
                "{c}: {:?}",
                t.exposure
            );
        }
        assert!(
            t.chokepoints.is_empty(),
            "A and B are alternatives to a source"
        );
        // B, and O: the one firm that makes all of B (a firm-level chokepoint).
        assert_eq!(
            metrics(&graph, "T2").chokepoints,
            vec!["B".to_owned(), "O".to_owned()]
        );
        assert_eq!(
            metrics(&graph, "T3").chokepoints,
            vec!["D".to_owned(), "O".to_owned()]
        );
        // r(A) = .36 + .16 = .52; r(B) = 1 x (1 - .5) = .5; r(C) = 1, x .4 through B.
        assert!(
            (t.supply_risk.unwrap_or_default() - 5.2).abs() < 1e-9,
            "{t:?}"
        );
        assert!((metrics(&graph, "T3").supply_risk.unwrap_or_default() - 10.0).abs() < 1e-9);
        // China stops: T loses .55; the strongest path is T <- A <- CN (.5 x .6).
        let scenario = graph.scenario(&["CN".to_owned()]);
        let impact = scenario.iter().find(|i| i.id == "T").expect("T");
        assert!((impact.lost_share - 0.55).abs() < 1e-12);
        assert_eq!(impact.path, vec!["T", "A", "CN"]);
        assert!((impact.path_share - 0.3).abs() < 1e-12);
        assert!(
            scenario.iter().all(|i| i.id != "T3"),
            "T3 needs nothing Chinese"
        );
        // Largest loss first: T (.55), then T2 (E(B) has CN .5).
        let order: Vec<&str> = scenario.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(order, vec!["T", "T2"]);
        assert!((scenario[1].lost_share - 0.5).abs() < 1e-12);
    }

    #[test]
    fn a_partial_supplier_beside_an_unattributed_rest_is_no_chokepoint() {
        let mut b = GraphBuilder::default();
        b.node("T", NodeKind::Technology, "T");
        b.node("P", NodeKind::Item, "P");
        b.node("A", NodeKind::Organisation, "A");
        b.home("A", "DE");
        b.input("T", "P", 1.0);
        // Firm A makes 5 %; "Various companies" the other 95 %.
        b.supply("P", "A", 0.05, Some(2023));
        b.firm_rest("P", 0.95, Some(2023), "");
        let graph = b.clone().build();
        assert_eq!(metrics(&graph, "T").chokepoints, vec!["P".to_owned()]);
        // Without the rest, A is the only supplier recorded: on every path (not a single
        // firm though: 5 % is not all of it).
        let mut b2 = GraphBuilder::default();
        b2.node("T", NodeKind::Technology, "T");
        b2.node("P", NodeKind::Item, "P");
        b2.node("A", NodeKind::Organisation, "A");
        b2.home("A", "DE");
        b2.input("T", "P", 1.0);
        b2.supply("P", "A", 0.05, Some(2023));
        let graph = b2.build();
        assert_eq!(
            metrics(&graph, "T").chokepoints,
            vec!["P".to_owned(), "A".to_owned()]
        );
        assert!(!graph.item_metrics()[0].single_firm);
    }

    #[test]
    fn cycles_are_cut_and_results_stay_bounded() {
        let mut b = GraphBuilder::default();
        for id in ["X", "Y"] {
            b.node(id, NodeKind::Item, id);
        }
        b.node("T", NodeKind::Technology, "T");
        b.input("T", "X", 1.0);
        b.input("X", "Y", 1.0);
        b.input("Y", "X", 1.0);
        b.supply("Y", "CN", 1.0, None);
        let graph = b.build();
        let t = metrics(&graph, "T");
        let total: f64 = t.exposure.values().sum();
        assert!(total <= 1.0 + 1e-12 && total > 0.0, "{t:?}");
    }
}
