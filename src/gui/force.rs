//! Force-directed layout with the Barnes-Hut approximation: repulsion between all nodes
//! through a quadtree (a cell far enough away, size / distance < θ, acts as one body at its
//! centre of mass), springs along edges, a weak pull to the centre, and a step size that
//! cools. O(n log n) per step; runs on a background thread in the graph view.

use egui::{Pos2, Vec2, vec2};

/// Parameters of the layout.
#[derive(Debug, Clone, Copy)]
pub struct ForceParams {
    /// Barnes-Hut opening criterion.
    pub theta: f32,
    /// Preferred edge length.
    pub spring_length: f32,
    /// Repulsion strength.
    pub repulsion: f32,
    /// Spring stiffness.
    pub stiffness: f32,
    /// Pull to the centre.
    pub gravity: f32,
    /// Largest move of one node in one step (cools over time).
    pub max_step: f32,
}

impl Default for ForceParams {
    fn default() -> Self {
        ForceParams {
            theta: 0.9,
            spring_length: 60.0,
            repulsion: 2_500.0,
            stiffness: 0.05,
            gravity: 0.002,
            max_step: 40.0,
        }
    }
}

/// A quadtree node: bounds, mass, centre of mass, children (indices) or one body.
#[derive(Debug, Clone)]
struct Quad {
    centre: Pos2,
    half: f32,
    mass: f32,
    mass_centre: Vec2,
    children: Option<[u32; 4]>,
    body: Option<u32>,
}

/// Builds the quadtree of `points`.
fn build_tree(points: &[Pos2]) -> Vec<Quad> {
    let mut min = Pos2::new(f32::MAX, f32::MAX);
    let mut max = Pos2::new(f32::MIN, f32::MIN);
    for p in points {
        min = min.min(*p);
        max = max.max(*p);
    }
    let centre = min + (max - min) / 2.0;
    let half = ((max - min).max_elem() / 2.0).max(1.0) + 1.0;
    let mut tree = Vec::with_capacity(points.len() * 3);
    tree.push(Quad {
        centre,
        half,
        mass: 0.0,
        mass_centre: Vec2::ZERO,
        children: None,
        body: None,
    });
    for (i, p) in points.iter().enumerate() {
        insert(
            &mut tree,
            0,
            u32::try_from(i).unwrap_or(u32::MAX),
            *p,
            points,
            0,
        );
    }
    // From here on `mass_centre` is the centre of mass itself.
    for q in &mut tree {
        if q.mass > 0.0 {
            q.mass_centre /= q.mass;
        }
    }
    tree
}

fn quadrant(q: &Quad, p: Pos2) -> usize {
    usize::from(p.x >= q.centre.x) + 2 * usize::from(p.y >= q.centre.y)
}

fn insert(tree: &mut Vec<Quad>, at: usize, body: u32, p: Pos2, points: &[Pos2], depth: u32) {
    let q = &mut tree[at];
    q.mass_centre += p.to_vec2();
    q.mass += 1.0;
    if q.children.is_none() && q.body.is_none() {
        q.body = Some(body);
        return;
    }
    // Too deep (coincident points): keep them together as one body.
    if depth > 40 {
        return;
    }
    if q.children.is_none() {
        let (centre, half) = (q.centre, q.half / 2.0);
        let first = u32::try_from(tree.len()).unwrap_or(u32::MAX);
        for k in 0..4u8 {
            let dx = if k & 1 == 1 { half } else { -half };
            let dy = if k & 2 == 2 { half } else { -half };
            tree.push(Quad {
                centre: centre + vec2(dx, dy),
                half,
                mass: 0.0,
                mass_centre: Vec2::ZERO,
                children: None,
                body: None,
            });
        }
        tree[at].children = Some([first, first + 1, first + 2, first + 3]);
        if let Some(old) = tree[at].body.take() {
            let op = points[old as usize];
            let child = tree[at]
                .children
                .map_or(0, |c| c[quadrant(&tree[at], op)] as usize);
            insert(tree, child, old, op, points, depth + 1);
        }
    }
    let child = tree[at]
        .children
        .map_or(0, |c| c[quadrant(&tree[at], p)] as usize);
    insert(tree, child, body, p, points, depth + 1);
}

/// Repulsive force on a point from the tree (`stack` is scratch space).
fn repulsion(
    tree: &[Quad],
    p: Pos2,
    me: u32,
    params: &ForceParams,
    stack: &mut Vec<usize>,
) -> Vec2 {
    let mut force = Vec2::ZERO;
    stack.clear();
    stack.push(0);
    let theta2 = params.theta * params.theta;
    while let Some(at) = stack.pop() {
        let q = &tree[at];
        if q.mass == 0.0 || q.body == Some(me) && q.children.is_none() {
            continue;
        }
        let d = p - q.mass_centre.to_pos2();
        let dist2 = d.length_sq().max(1.0);
        let size = q.half * 2.0;
        if q.children.is_none() || size * size < theta2 * dist2 {
            let dist = dist2.sqrt();
            force += d / dist * (params.repulsion * q.mass / dist2.max(25.0));
        } else if let Some(children) = q.children {
            stack.extend(children.iter().map(|c| *c as usize));
        }
    }
    force
}

/// One step: moves `points` and returns the total displacement.
pub fn step(points: &mut [Pos2], edges: &[(u32, u32)], params: &ForceParams) -> f32 {
    if points.is_empty() {
        return 0.0;
    }
    let tree = build_tree(points);
    let mut stack = Vec::with_capacity(256);
    let mut forces: Vec<Vec2> = points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            repulsion(
                &tree,
                *p,
                u32::try_from(i).unwrap_or(u32::MAX),
                params,
                &mut stack,
            ) - p.to_vec2() * params.gravity
        })
        .collect();
    for &(a, b) in edges {
        let (a, b) = (a as usize, b as usize);
        if a >= points.len() || b >= points.len() || a == b {
            continue;
        }
        let d = points[b] - points[a];
        let dist = d.length().max(0.01);
        let pull = d / dist * ((dist - params.spring_length) * params.stiffness);
        forces[a] += pull;
        forces[b] -= pull;
    }
    let mut moved = 0.0;
    for (p, f) in points.iter_mut().zip(forces) {
        let len = f.length();
        let delta = if len > params.max_step {
            f / len * params.max_step
        } else {
            f
        };
        *p += delta;
        moved += delta.length();
    }
    moved
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connected_nodes_come_together_and_unconnected_ones_spread() {
        let mut points = vec![
            Pos2::new(0.0, 0.0),
            Pos2::new(500.0, 0.0),
            Pos2::new(1.0, 1.0),
            Pos2::new(2.0, 0.5),
        ];
        let edges = [(0, 1)];
        let params = ForceParams::default();
        for _ in 0..300 {
            step(&mut points, &edges, &params);
        }
        let linked = points[0].distance(points[1]);
        assert!(linked < 200.0, "spring pulls: {linked}");
        assert!(points[2].distance(points[3]) > 10.0, "repulsion pushes");
        assert!(points.iter().all(|p| p.x.is_finite() && p.y.is_finite()));
    }

    #[test]
    fn barnes_hut_is_close_to_the_exact_sum() {
        let points: Vec<Pos2> = (0..400u16)
            .map(|i| Pos2::new(f32::from(i % 20) * 13.0, f32::from(i / 20) * 11.0))
            .collect();
        let params = ForceParams::default();
        let tree = build_tree(&points);
        let me = 57usize;
        let approx = repulsion(&tree, points[me], 57, &params, &mut Vec::new());
        let exact =
            points
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != me)
                .fold(Vec2::ZERO, |acc, (_, q)| {
                    let d = points[me] - *q;
                    let dist = d.length().max(1.0);
                    acc + d / dist * (params.repulsion / (dist * dist).max(25.0))
                });
        let error = (approx - exact).length() / exact.length().max(1e-6);
        assert!(error < 0.1, "relative error {error}");
    }
}
