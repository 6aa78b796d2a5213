//! `RANDOM_CUT_FOREST` and `RANDOM_CUT_FOREST_WITH_EXPLANATION`: streaming anomaly scores from a
//! robust random cut forest (Guha, Mishra, Roy, Schrijvers, ICML 2016), written from the paper and
//! the KDA SQL reference, with no SQL in sight: the planner hands each row's numeric values in.
//!
//! # What a row goes through
//! 1. **Validation.** The caller passes the numeric columns of a row as `&[f64]`, a SQL NULL as
//!    `NaN`. A row holding a non-finite value, or whose length differs from the first row's, or
//!    with more than [`MAX_NUMERIC_COLUMNS`] values, is scored 0 and does not touch the model
//!    (neither the shingle nor the sample). KDA's own NULL handling is not documented
//!    (Unverified); the column limit is the reference's, and the planner should reject such a
//!    query up front with [`check_numeric_columns`].
//! 2. **Shingling.** With `shingleSize` s > 1 the model point is the concatenation of the last s
//!    rows, oldest first; until s rows have arrived no point exists and the score is 0.
//! 3. **Scoring, before insertion.** Each tree gives the point a score; the forest's score is the
//!    mean over trees.
//! 4. **Sampling.** Each tree keeps a time-decayed reservoir of `subSampleSize` points (see
//!    "Time decay" below) and the tree holds exactly the sampled points.
//!
//! # The score
//! A random cut tree over a sample S cuts the bounding box of its points at a dimension chosen
//! with probability proportional to its side length, at a uniform position, until each point is
//! alone. The anomaly score approximates how early a query point q would be cut off if it were
//! inserted: walking q's path from the leaf up, at a node of depth k whose box B does not contain
//! q, a cut of `B ∪ {q}` separates q with probability `p = Σ_d ext_d / Σ_d range_d(B ∪ {q})`, and q
//! would become a leaf at depth k + 1. The per-tree score is the expectation of `1 / (depth at
//! which q is isolated)`:
//!
//! * at the leaf of depth D: `1 / (D + 1)` if q differs from the leaf's point; if it equals it
//!   (a duplicate of mass m in a tree of n points), `(1 - m / 2n) / (D + log2(m + 1))`;
//! * going up: `s_k = p / (k + 1) + (1 - p) * s_{k+1}`.
//!
//! The root value is multiplied by `log2(n + 1)` (the depth of a typical point), so that points
//! inside the bulk of the data score near 1 and below, isolated points several times that. This
//! is a displacement-style score in the spirit of the paper's CoDisp (which counts displaced
//! points instead), on the scale of the AWS random-cut-forest library's scores as we understand
//! them. KDA's published example (developer guide, blood pressure) shows normal records at
//! ~0.71–0.74 and an anomaly at ~3.86; a steady 2-D cluster here has a median score of ~0.7 and a far
//! outlier ~6.8 (see the tests). The exact constants KDA uses are Unverified.
//!
//! # Attribution (`WITH_EXPLANATION`)
//! The same recurrence is carried per dimension and side: at a node the separation probability
//! splits into `(min_d - q_d)⁺ / Σ range` ("q is below the box in d") and `(q_d - max_d)⁺ / Σ range`
//! ("above"), the child's vector is scaled by `1 - p`. The entries sum to the score exactly, as the
//! reference requires ("the sum of the attribution scores of all columns is equal to the anomaly
//! score"). A column's `ATTRIBUTION_SCORE` is the sum of its two sides (over every shingle
//! position); `DIRECTION` is `HIGH` when the "above" part is at least the "below" part;
//! `STRENGTH` is the absolute difference of the two parts. The reference only calls `STRENGTH`
//! "a nonnegative number representing the strength of the directional recommendation" (ours, the
//! net directional attribution, is Unverified: KDA's example shows a strength above the column's
//! attribution, which ours never is). During warm-up every column reads strength 0, direction
//! `LOW`, as the reference says.
//!
//! # Warm-up
//! "The algorithm returns zero for the first `subSampleSize` records while the machine learning
//! model is trained" (the reference). Here a point scores 0 until `subSampleSize` points have been
//! inserted, the moment every tree's sample is full; with shingling, the first `shingleSize - 1`
//! rows, which make no point, come on top (Unverified: whether KDA counts rows or shingles).
//!
//! # Time decay
//! The reference: with `timeDecay` T the algorithm "uses only the most recent T records" and
//! "within [them], assigns exponentially more weight to recent records". Both hold here. Each tree
//! samples with exponentially growing weights: the point with sequence number t gets the priority
//! `t / T - ln(-ln U)` (U uniform), and a tree keeps the `subSampleSize` highest priorities. This
//! is Efraimidis–Spirakis weighted reservoir sampling with weight `exp(t / T)`, so a point's
//! weight relative to the newest falls by a factor e every T points (the rate 1/T is our choice,
//! Unverified). On top, a sampled point is dropped once T newer points have arrived, so the model
//! never holds more than the last T points.
//!
//! # State
//! The whole forest is `Serialize`/`Deserialize`. Points live once in a shared store with a
//! reference count; trees keep their nodes (cut dimension and value, links, mass) and samples. The
//! bounding boxes are not serialised: they follow from the leaves and are rebuilt on first use
//! after a restore, so a restored forest scores identically to the original.

use std::collections::BinaryHeap;

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};

/// `numberOfTrees` when the query does not give it.
pub const DEFAULT_NUMBER_OF_TREES: i64 = 100;
/// `subSampleSize` when the query does not give it.
pub const DEFAULT_SUB_SAMPLE_SIZE: i64 = 256;
/// `timeDecay` when the query does not give it.
pub const DEFAULT_TIME_DECAY: i64 = 100_000;
/// `shingleSize` when the query does not give it.
pub const DEFAULT_SHINGLE_SIZE: i64 = 1;

/// Accepted `numberOfTrees`, inclusive (the reference).
pub const NUMBER_OF_TREES_LIMITS: (i64, i64) = (1, 1_000);
/// Accepted `subSampleSize`, inclusive (the reference); it must also be below `timeDecay`.
pub const SUB_SAMPLE_SIZE_LIMITS: (i64, i64) = (10, 1_000);
/// Accepted `timeDecay`, inclusive (the reference: "between 1 and the maximum integer").
pub const TIME_DECAY_LIMITS: (i64, i64) = (1, i32::MAX as i64);
/// Accepted `shingleSize`, inclusive (the reference).
pub const SHINGLE_SIZE_LIMITS: (i64, i64) = (1, 30);
/// "Your input stream can have up to 30 numeric columns" (the reference).
pub const MAX_NUMERIC_COLUMNS: usize = 30;

/// Rejects an input with more numeric columns than the function accepts.
pub fn check_numeric_columns(columns: usize) -> Result<(), RcfError> {
    if columns == 0 || columns > MAX_NUMERIC_COLUMNS {
        return Err(RcfError::NumericColumns { columns });
    }
    Ok(())
}

/// The function's tuning parameters, as the query gives them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RcfParams {
    /// Trees in the forest; the score is their mean.
    pub number_of_trees: i64,
    /// Points each tree samples from the stream.
    pub sub_sample_size: i64,
    /// Roughly how many recent points matter; larger keeps older points longer.
    pub time_decay: i64,
    /// Consecutive rows concatenated into one point.
    pub shingle_size: i64,
}

impl Default for RcfParams {
    fn default() -> Self {
        Self {
            number_of_trees: DEFAULT_NUMBER_OF_TREES,
            sub_sample_size: DEFAULT_SUB_SAMPLE_SIZE,
            time_decay: DEFAULT_TIME_DECAY,
            shingle_size: DEFAULT_SHINGLE_SIZE,
        }
    }
}

impl RcfParams {
    /// Checks every parameter against its limits; the first one out of range is the error.
    pub fn validate(&self) -> Result<(), RcfError> {
        let checks = [
            (
                "numberOfTrees",
                self.number_of_trees,
                NUMBER_OF_TREES_LIMITS,
            ),
            (
                "subSampleSize",
                self.sub_sample_size,
                SUB_SAMPLE_SIZE_LIMITS,
            ),
            ("timeDecay", self.time_decay, TIME_DECAY_LIMITS),
            ("shingleSize", self.shingle_size, SHINGLE_SIZE_LIMITS),
        ];
        for (parameter, value, (min, max)) in checks {
            if value < min || value > max {
                return Err(RcfError::OutOfRange {
                    parameter,
                    value,
                    min,
                    max,
                });
            }
        }
        if self.sub_sample_size >= self.time_decay {
            return Err(RcfError::SampleNotBelowTimeDecay {
                sub_sample_size: self.sub_sample_size,
                time_decay: self.time_decay,
            });
        }
        Ok(())
    }
}

/// Why a forest cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RcfError {
    #[error("{parameter} must be between {min} and {max} inclusive, got {value}")]
    OutOfRange {
        parameter: &'static str,
        value: i64,
        min: i64,
        max: i64,
    },
    #[error("subSampleSize ({sub_sample_size}) must be less than timeDecay ({time_decay})")]
    SampleNotBelowTimeDecay {
        sub_sample_size: i64,
        time_decay: i64,
    },
    #[error(
        "the input stream must have between 1 and {MAX_NUMERIC_COLUMNS} numeric columns, \
         got {columns}"
    )]
    NumericColumns { columns: usize },
}

/// Which side of the recently seen data a column's value lies on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Direction {
    High,
    Low,
}

impl Direction {
    /// The text KDA writes in `ANOMALY_EXPLANATION`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::High => "HIGH",
            Direction::Low => "LOW",
        }
    }
}

/// One input column's share of a record's anomaly score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ColumnAttribution {
    /// The column's part of the anomaly score; the columns' parts sum to the score.
    pub attribution_score: f64,
    /// How one-sided the column's part is (see the module doc; Unverified definition).
    pub strength: f64,
    pub direction: Direction,
}

/// `RANDOM_CUT_FOREST_WITH_EXPLANATION`'s result for one record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    pub anomaly_score: f64,
    /// One entry per input column, in input order.
    pub columns: Vec<ColumnAttribution>,
}

impl Explanation {
    /// The `ANOMALY_EXPLANATION` column: a JSON object keyed by column name, in column order,
    /// shaped like the reference's example:
    /// `{"Systolic":{"DIRECTION":"LOW","STRENGTH":"0.0922","ATTRIBUTION_SCORE":"0.3792"},...}`
    /// (numbers as strings with four decimals). Without directionality the object holds only
    /// `ATTRIBUTION_SCORE` (Unverified: the reference example always asks for directionality).
    /// Names beyond `column_names` are called `COLUMN<n>` (n from 1).
    pub fn to_json(&self, column_names: &[&str], with_directionality: bool) -> String {
        let mut json = String::from("{");
        for (index, column) in self.columns.iter().enumerate() {
            if index > 0 {
                json.push(',');
            }
            let name = match column_names.get(index) {
                Some(name) => (*name).to_owned(),
                None => format!("COLUMN{}", index + 1),
            };
            json.push_str(
                &serde_json::to_string(&name).expect("a string always serialises to JSON"),
            );
            json.push_str(":{");
            if with_directionality {
                json.push_str(&format!(
                    "\"DIRECTION\":\"{}\",\"STRENGTH\":\"{:.4}\",",
                    column.direction.as_str(),
                    column.strength
                ));
            }
            json.push_str(&format!(
                "\"ATTRIBUTION_SCORE\":\"{:.4}\"}}",
                column.attribution_score
            ));
        }
        json.push('}');
        json
    }
}

/// Marks "no node" in node links.
const NONE: u32 = u32::MAX;

/// The forest's points, each stored once and shared by the trees that sample it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct PointStore {
    dims: usize,
    #[serde(with = "exact_f64s")]
    coords: Vec<f64>,
    /// Sample entries referring to each slot; a slot at 0 is on `free`.
    refs: Vec<u32>,
    free: Vec<u32>,
}

impl PointStore {
    fn point(&self, slot: u32) -> &[f64] {
        let start = slot as usize * self.dims;
        &self.coords[start..start + self.dims]
    }

    /// Stores `point` with one reference, which the caller releases.
    fn add(&mut self, point: &[f64]) -> u32 {
        if let Some(slot) = self.free.pop() {
            let start = slot as usize * self.dims;
            self.coords[start..start + self.dims].copy_from_slice(point);
            self.refs[slot as usize] = 1;
            return slot;
        }
        let slot = u32::try_from(self.refs.len()).expect("fewer than 2^32 stored points");
        self.coords.extend_from_slice(point);
        self.refs.push(1);
        slot
    }

    fn retain(&mut self, slot: u32) {
        self.refs[slot as usize] += 1;
    }

    fn release(&mut self, slot: u32) {
        let count = &mut self.refs[slot as usize];
        debug_assert!(*count > 0, "released a free point slot");
        *count -= 1;
        if *count == 0 {
            self.free.push(slot);
        }
    }
}

/// A tree node. A leaf has `left == NONE` and names its point's slot; an internal node cuts
/// dimension `cut_dim` at `cut_value`: values `<= cut_value` go left.
#[derive(Debug, Clone)]
struct Node {
    parent: u32,
    left: u32,
    right: u32,
    cut_dim: u32,
    cut_value: f64,
    /// Points below this node, duplicates counted.
    mass: u32,
    point: u32,
}

/// A sampled point with its priority. Ordered so that `BinaryHeap::peek` is the lowest priority.
#[derive(Debug, Clone, Copy)]
struct SampleEntry {
    priority: f64,
    slot: u32,
    /// The point's sequence number, for the `timeDecay` horizon.
    sequence: u64,
}

impl PartialEq for SampleEntry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == std::cmp::Ordering::Equal
    }
}

impl Eq for SampleEntry {}

impl PartialOrd for SampleEntry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SampleEntry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        other.priority.total_cmp(&self.priority)
    }
}

/// One random cut tree over its own time-decayed sample. Serialised as a [`TreeSnapshot`].
#[derive(Debug, Clone)]
struct Tree {
    nodes: Vec<Node>,
    free_nodes: Vec<u32>,
    root: u32,
    sample: BinaryHeap<SampleEntry>,
    /// No sampled point is older (a lower bound; 0 after a restore).
    oldest_sampled: u64,
    /// Per node `2 * dims` values: the box's minimums then maximums. Rebuilt after a restore.
    boxes: Vec<f64>,
}

/// A tree's checkpoint, column by column: a forest of 100 trees of 256 points holds ~51,000
/// nodes, and one JSON object per node (field names included) made a default forest's snapshot
/// ~7 MB. Links are stored plus one, 0 meaning none; parents and boxes are recomputed.
#[derive(Debug, Serialize, Deserialize)]
struct TreeSnapshot {
    root: u32,
    left: Vec<u32>,
    right: Vec<u32>,
    cut_dim: Vec<u32>,
    #[serde(with = "exact_f64s")]
    cut_value: Vec<f64>,
    mass: Vec<u32>,
    /// The leaf's point slot plus one; 0 for internal nodes.
    point: Vec<u32>,
    free_nodes: Vec<u32>,
    #[serde(with = "exact_f64s")]
    sample_priority: Vec<f64>,
    sample_slot: Vec<u32>,
    sample_sequence: Vec<u64>,
}

fn plus_one(link: u32) -> u32 {
    if link == NONE { 0 } else { link + 1 }
}

fn minus_one(link: u32) -> u32 {
    if link == 0 { NONE } else { link - 1 }
}

impl Serialize for Tree {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let nodes = &self.nodes;
        TreeSnapshot {
            root: plus_one(self.root),
            left: nodes.iter().map(|node| plus_one(node.left)).collect(),
            right: nodes.iter().map(|node| plus_one(node.right)).collect(),
            cut_dim: nodes.iter().map(|node| node.cut_dim).collect(),
            cut_value: nodes.iter().map(|node| node.cut_value).collect(),
            mass: nodes.iter().map(|node| node.mass).collect(),
            point: nodes.iter().map(|node| plus_one(node.point)).collect(),
            free_nodes: self.free_nodes.clone(),
            // The heap's own order, which is already a heap: restoring it changes nothing.
            sample_priority: self.sample.iter().map(|entry| entry.priority).collect(),
            sample_slot: self.sample.iter().map(|entry| entry.slot).collect(),
            sample_sequence: self.sample.iter().map(|entry| entry.sequence).collect(),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Tree {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let snapshot = TreeSnapshot::deserialize(deserializer)?;
        let count = snapshot.left.len();
        let columns = [
            snapshot.right.len(),
            snapshot.cut_dim.len(),
            snapshot.cut_value.len(),
            snapshot.mass.len(),
            snapshot.point.len(),
        ];
        if columns.iter().any(|&len| len != count)
            || snapshot.sample_priority.len() != snapshot.sample_slot.len()
            || snapshot.sample_priority.len() != snapshot.sample_sequence.len()
        {
            return Err(serde::de::Error::custom(
                "tree snapshot columns of different lengths",
            ));
        }
        let mut nodes: Vec<Node> = (0..count)
            .map(|i| Node {
                parent: NONE,
                left: minus_one(snapshot.left[i]),
                right: minus_one(snapshot.right[i]),
                cut_dim: snapshot.cut_dim[i],
                cut_value: snapshot.cut_value[i],
                mass: snapshot.mass[i],
                point: minus_one(snapshot.point[i]),
            })
            .collect();
        // Parents from the live tree only: freed nodes keep stale links.
        let root = minus_one(snapshot.root);
        let mut stack = Vec::new();
        if root != NONE {
            stack.push(root);
        }
        let mut visited = 0_usize;
        while let Some(index) = stack.pop() {
            visited += 1;
            let Some(node) = nodes.get(index as usize) else {
                return Err(serde::de::Error::custom("tree snapshot link out of range"));
            };
            if visited > count {
                return Err(serde::de::Error::custom("tree snapshot links form a cycle"));
            }
            for child in [node.left, node.right] {
                if child == NONE {
                    continue;
                }
                let Some(child_node) = nodes.get_mut(child as usize) else {
                    return Err(serde::de::Error::custom("tree snapshot link out of range"));
                };
                child_node.parent = index;
                stack.push(child);
            }
        }
        let sample = (0..snapshot.sample_slot.len())
            .map(|i| SampleEntry {
                priority: snapshot.sample_priority[i],
                slot: snapshot.sample_slot[i],
                sequence: snapshot.sample_sequence[i],
            })
            .collect::<Vec<_>>();
        Ok(Tree {
            nodes,
            free_nodes: snapshot.free_nodes,
            root,
            sample: BinaryHeap::from(sample),
            oldest_sampled: 0,
            boxes: Vec::new(),
        })
    }
}

impl Tree {
    fn new() -> Self {
        Self {
            nodes: Vec::new(),
            free_nodes: Vec::new(),
            root: NONE,
            sample: BinaryHeap::new(),
            oldest_sampled: 0,
            boxes: Vec::new(),
        }
    }

    fn is_leaf(&self, node: u32) -> bool {
        self.nodes[node as usize].left == NONE
    }

    fn min_max(&self, node: u32, dims: usize) -> (&[f64], &[f64]) {
        let start = node as usize * 2 * dims;
        self.boxes[start..start + 2 * dims].split_at(dims)
    }

    fn child_towards(&self, node: u32, point: &[f64]) -> u32 {
        let node = &self.nodes[node as usize];
        if point[node.cut_dim as usize] <= node.cut_value {
            node.left
        } else {
            node.right
        }
    }

    fn alloc(&mut self, node: Node, dims: usize) -> u32 {
        if let Some(index) = self.free_nodes.pop() {
            self.nodes[index as usize] = node;
            return index;
        }
        let index = u32::try_from(self.nodes.len()).expect("fewer than 2^32 tree nodes");
        self.nodes.push(node);
        self.boxes.resize(self.nodes.len() * 2 * dims, 0.0);
        index
    }

    fn new_leaf(&mut self, point: &[f64], slot: u32, dims: usize) -> u32 {
        let leaf = self.alloc(
            Node {
                parent: NONE,
                left: NONE,
                right: NONE,
                cut_dim: 0,
                cut_value: 0.0,
                mass: 1,
                point: slot,
            },
            dims,
        );
        let start = leaf as usize * 2 * dims;
        self.boxes[start..start + dims].copy_from_slice(point);
        self.boxes[start + dims..start + 2 * dims].copy_from_slice(point);
        leaf
    }

    fn leaf_equals(&self, leaf: u32, point: &[f64], dims: usize) -> bool {
        self.min_max(leaf, dims).0 == point
    }

    fn replace_child(&mut self, parent: u32, old: u32, new: u32) {
        if parent == NONE {
            self.root = new;
            return;
        }
        let parent = &mut self.nodes[parent as usize];
        if parent.left == old {
            parent.left = new;
        } else {
            parent.right = new;
        }
    }

    /// Inserts `point` (stored at `slot`); returns the slot the tree now refers to, which is an
    /// older slot when the point duplicates a leaf (the leaf's mass grows instead).
    fn insert(
        &mut self,
        point: &[f64],
        slot: u32,
        rng: &mut Xoshiro256PlusPlus,
        dims: usize,
    ) -> u32 {
        if self.root == NONE {
            self.root = self.new_leaf(point, slot, dims);
            return slot;
        }
        let mut node = self.root;
        loop {
            if self.is_leaf(node) && self.leaf_equals(node, point, dims) {
                let mut up = node;
                while up != NONE {
                    self.nodes[up as usize].mass += 1;
                    up = self.nodes[up as usize].parent;
                }
                return self.nodes[node as usize].point;
            }
            let Some((cut_dim, cut_value)) = self.random_cut(node, point, rng, dims) else {
                // Only a degenerate box could give no cut; follow the existing cut.
                node = self.child_towards(node, point);
                continue;
            };
            let (min, max) = self.min_max(node, dims);
            let goes_left = point[cut_dim] < min[cut_dim] && cut_value < min[cut_dim];
            let goes_right = point[cut_dim] > max[cut_dim] && cut_value >= max[cut_dim];
            if goes_left || goes_right {
                self.split_above(node, point, slot, cut_dim, cut_value, goes_left, dims);
                return slot;
            }
            if self.is_leaf(node) {
                // Rounding put the cut on the leaf's own value; draw again.
                continue;
            }
            node = self.child_towards(node, point);
        }
    }

    /// A cut of `box(node) ∪ {point}`: a dimension with probability proportional to its side,
    /// a uniform position on it.
    fn random_cut(
        &self,
        node: u32,
        point: &[f64],
        rng: &mut Xoshiro256PlusPlus,
        dims: usize,
    ) -> Option<(usize, f64)> {
        let (min, max) = self.min_max(node, dims);
        let mut total = 0.0;
        for d in 0..dims {
            total += max[d].max(point[d]) - min[d].min(point[d]);
        }
        if total <= 0.0 || !total.is_finite() {
            return None;
        }
        let mut remaining = rng.random::<f64>() * total;
        let mut last_with_side = None;
        for d in 0..dims {
            let low = min[d].min(point[d]);
            let side = max[d].max(point[d]) - low;
            if side <= 0.0 {
                continue;
            }
            last_with_side = Some((d, low, side));
            if remaining < side {
                let cut = low + remaining;
                let cut = if cut < low + side {
                    cut
                } else {
                    low + side / 2.0
                };
                return Some((d, cut));
            }
            remaining -= side;
        }
        // Rounding ran past the last side: cut that side in the middle.
        last_with_side.map(|(d, low, side)| (d, low + side / 2.0))
    }

    /// Puts a new internal node above `node` whose other child is a new leaf for `point`.
    #[allow(clippy::too_many_arguments)]
    fn split_above(
        &mut self,
        node: u32,
        point: &[f64],
        slot: u32,
        cut_dim: usize,
        cut_value: f64,
        leaf_goes_left: bool,
        dims: usize,
    ) {
        let parent = self.nodes[node as usize].parent;
        let leaf = self.new_leaf(point, slot, dims);
        let (left, right) = if leaf_goes_left {
            (leaf, node)
        } else {
            (node, leaf)
        };
        let inner = self.alloc(
            Node {
                parent,
                left,
                right,
                cut_dim: u32::try_from(cut_dim).expect("dimensions fit in u32"),
                cut_value,
                mass: self.nodes[node as usize].mass + 1,
                point: NONE,
            },
            dims,
        );
        let (node_start, inner_start) = (node as usize * 2 * dims, inner as usize * 2 * dims);
        self.boxes
            .copy_within(node_start..node_start + 2 * dims, inner_start);
        self.extend_box(inner, point, dims);
        self.nodes[node as usize].parent = inner;
        self.nodes[leaf as usize].parent = inner;
        self.replace_child(parent, node, inner);
        let mut up = parent;
        while up != NONE {
            self.nodes[up as usize].mass += 1;
            self.extend_box(up, point, dims);
            up = self.nodes[up as usize].parent;
        }
    }

    fn extend_box(&mut self, node: u32, point: &[f64], dims: usize) {
        let start = node as usize * 2 * dims;
        let (min, max) = self.boxes[start..start + 2 * dims].split_at_mut(dims);
        for d in 0..dims {
            min[d] = min[d].min(point[d]);
            max[d] = max[d].max(point[d]);
        }
    }

    fn box_from_children(&mut self, node: u32, dims: usize) {
        let (left, right) = {
            let node = &self.nodes[node as usize];
            (node.left as usize, node.right as usize)
        };
        let start = node as usize * 2 * dims;
        for i in 0..dims {
            let low = self.boxes[left * 2 * dims + i].min(self.boxes[right * 2 * dims + i]);
            let high =
                self.boxes[left * 2 * dims + dims + i].max(self.boxes[right * 2 * dims + dims + i]);
            self.boxes[start + i] = low;
            self.boxes[start + dims + i] = high;
        }
    }

    /// Removes one copy of `point`; false when the tree does not hold it (a broken invariant).
    fn delete(&mut self, point: &[f64], dims: usize) -> bool {
        if self.root == NONE {
            return false;
        }
        let mut node = self.root;
        while !self.is_leaf(node) {
            node = self.child_towards(node, point);
        }
        if !self.leaf_equals(node, point, dims) {
            return false;
        }
        if self.nodes[node as usize].mass > 1 {
            let mut up = node;
            while up != NONE {
                self.nodes[up as usize].mass -= 1;
                up = self.nodes[up as usize].parent;
            }
            return true;
        }
        let parent = self.nodes[node as usize].parent;
        self.free_nodes.push(node);
        if parent == NONE {
            self.root = NONE;
            return true;
        }
        let sibling = {
            let parent = &self.nodes[parent as usize];
            if parent.left == node {
                parent.right
            } else {
                parent.left
            }
        };
        let grandparent = self.nodes[parent as usize].parent;
        self.free_nodes.push(parent);
        self.nodes[sibling as usize].parent = grandparent;
        self.replace_child(grandparent, parent, sibling);
        let mut up = grandparent;
        while up != NONE {
            self.nodes[up as usize].mass -= 1;
            self.box_from_children(up, dims);
            up = self.nodes[up as usize].parent;
        }
        true
    }

    /// Drops sampled points with a sequence number below `oldest_kept`.
    fn forget_older_than(&mut self, oldest_kept: u64, store: &mut PointStore, dims: usize) {
        if self.oldest_sampled >= oldest_kept {
            return;
        }
        let oldest = self.sample.iter().map(|entry| entry.sequence).min();
        let Some(oldest) = oldest.filter(|&oldest| oldest < oldest_kept) else {
            self.oldest_sampled = oldest.unwrap_or(oldest_kept);
            return;
        };
        self.oldest_sampled = oldest;
        let mut kept = Vec::with_capacity(self.sample.len());
        for entry in std::mem::take(&mut self.sample).into_vec() {
            if entry.sequence >= oldest_kept {
                kept.push(entry);
                continue;
            }
            let deleted = self.delete(store.point(entry.slot), dims);
            debug_assert!(deleted, "a sampled point is in its tree");
            store.release(entry.slot);
        }
        self.oldest_sampled = kept
            .iter()
            .map(|entry| entry.sequence)
            .min()
            .unwrap_or(oldest_kept);
        self.sample = BinaryHeap::from(kept);
    }

    /// Recomputes every box from the leaves' points (after a restore).
    fn rebuild_boxes(&mut self, store: &PointStore, dims: usize) {
        self.boxes = vec![0.0; self.nodes.len() * 2 * dims];
        if self.root == NONE {
            return;
        }
        let mut preorder = Vec::with_capacity(self.nodes.len());
        let mut stack = vec![self.root];
        while let Some(node) = stack.pop() {
            preorder.push(node);
            if !self.is_leaf(node) {
                stack.push(self.nodes[node as usize].left);
                stack.push(self.nodes[node as usize].right);
            }
        }
        for &node in preorder.iter().rev() {
            if self.is_leaf(node) {
                let point = store.point(self.nodes[node as usize].point);
                let start = node as usize * 2 * dims;
                self.boxes[start..start + dims].copy_from_slice(point);
                self.boxes[start + dims..start + 2 * dims].copy_from_slice(point);
            } else {
                self.box_from_children(node, dims);
            }
        }
    }

    /// The normalised score of `point`; with `attribution` (length `2 * dims`: per dimension
    /// "below" then "above") also its split, summing to the score.
    fn score(
        &self,
        point: &[f64],
        dims: usize,
        path: &mut Vec<u32>,
        mut attribution: Option<&mut [f64]>,
    ) -> f64 {
        if let Some(attribution) = attribution.as_deref_mut() {
            attribution.fill(0.0);
        }
        if self.root == NONE {
            return 0.0;
        }
        path.clear();
        let mut node = self.root;
        loop {
            path.push(node);
            if self.is_leaf(node) {
                break;
            }
            node = self.child_towards(node, point);
        }
        let leaf = node;
        let leaf_depth = (path.len() - 1) as f64;
        let total_mass = f64::from(self.nodes[self.root as usize].mass);
        let mut score;
        if self.leaf_equals(leaf, point, dims) {
            let mass = f64::from(self.nodes[leaf as usize].mass);
            score = (1.0 - mass / (2.0 * total_mass)) / (leaf_depth + (mass + 1.0).log2());
            if let Some(attribution) = attribution.as_deref_mut() {
                attribution.fill(score / (2 * dims) as f64);
            }
        } else {
            // Separation at the leaf is certain: a sibling leaf at depth D + 1.
            let (leaf_point, _) = self.min_max(leaf, dims);
            score = 1.0 / (leaf_depth + 1.0);
            if let Some(attribution) = attribution.as_deref_mut() {
                let mut spread = 0.0;
                for d in 0..dims {
                    spread += (point[d] - leaf_point[d]).abs();
                }
                for d in 0..dims {
                    attribution[d] = (leaf_point[d] - point[d]).max(0.0) / spread * score;
                    attribution[dims + d] = (point[d] - leaf_point[d]).max(0.0) / spread * score;
                }
            }
        }
        for depth in (0..path.len() - 1).rev() {
            let (min, max) = self.min_max(path[depth], dims);
            let mut outside = 0.0;
            let mut merged = 0.0;
            for d in 0..dims {
                let below = (min[d] - point[d]).max(0.0);
                let above = (point[d] - max[d]).max(0.0);
                outside += below + above;
                merged += max[d] - min[d] + below + above;
            }
            if outside <= 0.0 {
                continue;
            }
            let separation = outside / merged;
            let isolated_here = 1.0 / (depth as f64 + 1.0);
            score = separation * isolated_here + (1.0 - separation) * score;
            if let Some(attribution) = attribution.as_deref_mut() {
                for value in attribution.iter_mut() {
                    *value *= 1.0 - separation;
                }
                for d in 0..dims {
                    attribution[d] += (min[d] - point[d]).max(0.0) / merged * isolated_here;
                    attribution[dims + d] += (point[d] - max[d]).max(0.0) / merged * isolated_here;
                }
            }
        }
        let normaliser = (total_mass + 1.0).log2();
        if let Some(attribution) = attribution {
            for value in attribution.iter_mut() {
                *value *= normaliser;
            }
        }
        score * normaliser
    }
}

/// A robust random cut forest over a stream of rows; see the module doc.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RandomCutForest {
    params: RcfParams,
    sub_sample_size: usize,
    shingle_size: usize,
    /// `1 / timeDecay`.
    #[serde(with = "exact_f64")]
    lambda: f64,
    /// Columns per row, fixed by the first valid row.
    columns: Option<usize>,
    /// The last `shingle_size` rows' values, oldest first.
    #[serde(with = "exact_f64s")]
    shingle: Vec<f64>,
    store: PointStore,
    trees: Vec<Tree>,
    rng: Xoshiro256PlusPlus,
    /// Points inserted so far; the next point's sequence number.
    inserted: u64,
    #[serde(skip)]
    path: Vec<u32>,
    #[serde(skip)]
    tree_attribution: Vec<f64>,
}

impl RandomCutForest {
    /// An empty forest; the same `params`, `seed` and rows give the same scores.
    pub fn new(params: RcfParams, seed: u64) -> Result<Self, RcfError> {
        params.validate()?;
        let number_of_trees = usize::try_from(params.number_of_trees).expect("validated");
        Ok(Self {
            params,
            sub_sample_size: usize::try_from(params.sub_sample_size).expect("validated"),
            shingle_size: usize::try_from(params.shingle_size).expect("validated"),
            lambda: 1.0 / params.time_decay as f64,
            columns: None,
            shingle: Vec::new(),
            store: PointStore::default(),
            trees: (0..number_of_trees).map(|_| Tree::new()).collect(),
            rng: Xoshiro256PlusPlus::seed_from_u64(seed),
            inserted: 0,
            path: Vec::new(),
            tree_attribution: Vec::new(),
        })
    }

    pub fn params(&self) -> RcfParams {
        self.params
    }

    /// Points inserted into the model so far (shingled points, not rows).
    pub fn points_seen(&self) -> u64 {
        self.inserted
    }

    /// `RANDOM_CUT_FOREST`'s `ANOMALY_SCORE` for `row` (its numeric columns), computed against
    /// the forest before the row's point is sampled into it.
    pub fn score_and_update(&mut self, row: &[f64]) -> f64 {
        let Some(point) = self.next_point(row) else {
            return 0.0;
        };
        self.ensure_boxes();
        let score = if self.is_warm() {
            self.forest_score(&point, false)
        } else {
            0.0
        };
        self.update(&point);
        score
    }

    /// `RANDOM_CUT_FOREST_WITH_EXPLANATION`'s score and per-column attribution for `row`.
    pub fn explain_and_update(&mut self, row: &[f64]) -> Explanation {
        let quiet = |score: f64| Explanation {
            anomaly_score: score,
            columns: vec![
                // "During the learning phase, the strength is 0" and the direction "defaults to
                // LOW" (the reference).
                ColumnAttribution {
                    attribution_score: 0.0,
                    strength: 0.0,
                    direction: Direction::Low,
                };
                row.len()
            ],
        };
        let Some(point) = self.next_point(row) else {
            return quiet(0.0);
        };
        self.ensure_boxes();
        if !self.is_warm() {
            self.update(&point);
            return quiet(0.0);
        }
        let anomaly_score = self.forest_score(&point, true);
        let columns = row.len();
        let dims = point.len();
        let mut below = vec![0.0; columns];
        let mut above = vec![0.0; columns];
        for d in 0..dims {
            below[d % columns] += self.tree_attribution[d];
            above[d % columns] += self.tree_attribution[dims + d];
        }
        let columns = below
            .iter()
            .zip(&above)
            .map(|(&below, &above)| ColumnAttribution {
                attribution_score: below + above,
                strength: (above - below).abs(),
                direction: if above >= below {
                    Direction::High
                } else {
                    Direction::Low
                },
            })
            .collect();
        self.update(&point);
        Explanation {
            anomaly_score,
            columns,
        }
    }

    fn is_warm(&self) -> bool {
        self.inserted >= self.sub_sample_size as u64
    }

    /// Validates `row`, pushes it into the shingle, and returns the model point once the
    /// shingle is full.
    fn next_point(&mut self, row: &[f64]) -> Option<Vec<f64>> {
        if check_numeric_columns(row.len()).is_err() || row.iter().any(|value| !value.is_finite()) {
            return None;
        }
        match self.columns {
            Some(columns) if columns != row.len() => return None,
            Some(_) => {}
            None => {
                self.columns = Some(row.len());
                self.store.dims = row.len() * self.shingle_size;
            }
        }
        let width = row.len() * self.shingle_size;
        self.shingle.extend_from_slice(row);
        if self.shingle.len() > width {
            let excess = self.shingle.len() - width;
            self.shingle.drain(..excess);
        }
        if self.shingle.len() < width {
            return None;
        }
        Some(self.shingle.clone())
    }

    /// Rebuilds the boxes a restore left out.
    fn ensure_boxes(&mut self) {
        let dims = self.store.dims;
        for tree in &mut self.trees {
            if tree.boxes.len() != tree.nodes.len() * 2 * dims {
                tree.rebuild_boxes(&self.store, dims);
            }
        }
    }

    /// The mean score over trees; with `attribute`, the mean attribution is left in
    /// `tree_attribution[..2 * dims]` (per dimension "below" then "above").
    fn forest_score(&mut self, point: &[f64], attribute: bool) -> f64 {
        let dims = point.len();
        let trees = self.trees.len() as f64;
        let mut total = 0.0;
        if !attribute {
            for tree in &self.trees {
                total += tree.score(point, dims, &mut self.path, None);
            }
            return total / trees;
        }
        self.tree_attribution.clear();
        self.tree_attribution.resize(4 * dims, 0.0);
        let (mean, scratch) = self.tree_attribution.split_at_mut(2 * dims);
        for tree in &self.trees {
            total += tree.score(point, dims, &mut self.path, Some(scratch));
            for (sum, value) in mean.iter_mut().zip(scratch.iter()) {
                *sum += value;
            }
        }
        for value in mean.iter_mut() {
            *value /= trees;
        }
        total / trees
    }

    /// Offers `point` to every tree's time-decayed sample.
    fn update(&mut self, point: &[f64]) {
        let dims = point.len();
        let sequence = self.inserted;
        let age_weight = sequence as f64 * self.lambda;
        self.inserted += 1;
        // After this point the model holds at most the last `timeDecay` points.
        let horizon = u64::try_from(self.params.time_decay).expect("validated");
        let oldest_kept = (sequence + 1).saturating_sub(horizon);
        let Self {
            trees,
            store,
            rng,
            sub_sample_size,
            ..
        } = self;
        let mut held_slot = None;
        for tree in trees.iter_mut() {
            tree.forget_older_than(oldest_kept, store, dims);
            let uniform = 1.0 - rng.random::<f64>(); // in (0, 1]
            let exponential = (-uniform.ln()).max(f64::MIN_POSITIVE);
            let priority = age_weight - exponential.ln();
            if tree.sample.len() >= *sub_sample_size {
                let Some(lowest) = tree.sample.peek().copied() else {
                    continue;
                };
                if priority <= lowest.priority {
                    continue;
                }
                tree.sample.pop();
                let deleted = tree.delete(store.point(lowest.slot), dims);
                debug_assert!(deleted, "a sampled point is in its tree");
                store.release(lowest.slot);
            }
            let slot = *held_slot.get_or_insert_with(|| store.add(point));
            let used = tree.insert(point, slot, rng, dims);
            store.retain(used);
            tree.sample.push(SampleEntry {
                priority,
                slot: used,
                sequence,
            });
        }
        if let Some(slot) = held_slot {
            store.release(slot);
        }
    }
}

/// An `f64` checkpointed as its bit pattern: JSON text does not round-trip every `f64` exactly
/// (serde_json without `float_roundtrip`), and a restored forest must score bit for bit alike.
mod exact_f64 {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(value.to_bits())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
        u64::deserialize(deserializer).map(f64::from_bits)
    }
}

/// [`exact_f64`] for a `Vec<f64>`.
pub(crate) mod exact_f64s {
    use serde::ser::SerializeSeq;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(values: &[f64], serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(values.len()))?;
        for value in values {
            seq.serialize_element(&value.to_bits())?;
        }
        seq.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<f64>, D::Error> {
        let bits = Vec::<u64>::deserialize(deserializer)?;
        Ok(bits.into_iter().map(f64::from_bits).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A seeded cloud around (10, 20) with standard deviation ~1, from sums of uniforms.
    fn cluster_row(rng: &mut Xoshiro256PlusPlus) -> Vec<f64> {
        let mut normal = || {
            let mut sum = 0.0;
            for _ in 0..12 {
                sum += rng.random::<f64>();
            }
            sum - 6.0
        };
        vec![10.0 + normal(), 20.0 + normal()]
    }

    fn small_params() -> RcfParams {
        RcfParams {
            number_of_trees: 50,
            ..RcfParams::default()
        }
    }

    fn median(values: &mut [f64]) -> f64 {
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    }

    #[test]
    fn outlier_scores_far_above_the_cluster() {
        let mut forest = RandomCutForest::new(RcfParams::default(), 7).expect("default params");
        let mut data = Xoshiro256PlusPlus::seed_from_u64(1);
        let mut scores = Vec::new();
        for index in 0..2000 {
            let score = forest.score_and_update(&cluster_row(&mut data));
            if index < 256 {
                assert_eq!(score, 0.0, "warm-up rows score 0");
            } else {
                scores.push(score);
            }
        }
        let typical = median(&mut scores);
        let outlier = forest.score_and_update(&[40.0, 20.0]);
        println!("median score {typical}, outlier score {outlier}");
        assert!(typical > 0.0 && typical < 1.5, "typical score {typical}");
        assert!(
            outlier > 4.0 * typical,
            "outlier {outlier} vs median {typical}"
        );
    }

    #[test]
    fn same_seed_same_scores_and_other_seed_differs() {
        let run = |seed: u64| {
            let mut forest = RandomCutForest::new(small_params(), seed).expect("params");
            let mut data = Xoshiro256PlusPlus::seed_from_u64(3);
            (0..600)
                .map(|_| forest.score_and_update(&cluster_row(&mut data)))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(11), run(11));
        assert_ne!(run(11), run(12));
    }

    #[test]
    fn snapshot_round_trip_scores_identically() {
        let mut forest = RandomCutForest::new(small_params(), 5).expect("params");
        let mut data = Xoshiro256PlusPlus::seed_from_u64(4);
        for _ in 0..1000 {
            forest.score_and_update(&cluster_row(&mut data));
        }
        let snapshot = serde_json::to_string(&forest).expect("forest serialises");
        let mut restored: RandomCutForest =
            serde_json::from_str(&snapshot).expect("snapshot deserialises");
        for _ in 0..500 {
            let row = cluster_row(&mut data);
            assert_eq!(
                forest.explain_and_update(&row),
                restored.explain_and_update(&row)
            );
        }
        assert_eq!(
            forest.score_and_update(&[50.0, 0.0]),
            restored.score_and_update(&[50.0, 0.0])
        );
    }

    #[test]
    fn parameters_out_of_range_name_their_limits() {
        let cases = [
            (
                RcfParams {
                    number_of_trees: 0,
                    ..RcfParams::default()
                },
                "numberOfTrees must be between 1 and 1000 inclusive, got 0",
            ),
            (
                RcfParams {
                    sub_sample_size: 5,
                    ..RcfParams::default()
                },
                "subSampleSize must be between 10 and 1000 inclusive, got 5",
            ),
            (
                RcfParams {
                    time_decay: -1,
                    ..RcfParams::default()
                },
                "timeDecay must be between 1 and 2147483647 inclusive, got -1",
            ),
            (
                RcfParams {
                    shingle_size: 31,
                    ..RcfParams::default()
                },
                "shingleSize must be between 1 and 30 inclusive, got 31",
            ),
            (
                RcfParams {
                    time_decay: 256,
                    ..RcfParams::default()
                },
                "subSampleSize (256) must be less than timeDecay (256)",
            ),
        ];
        for (params, message) in cases {
            let error = RandomCutForest::new(params, 0).expect_err("out of range");
            assert_eq!(error.to_string(), message);
        }
        assert!(check_numeric_columns(30).is_ok());
        assert_eq!(
            check_numeric_columns(31).map_err(|error| error.to_string()),
            Err("the input stream must have between 1 and 30 numeric columns, got 31".to_owned())
        );
    }

    #[test]
    fn nothing_older_than_time_decay_stays_in_the_model() {
        let params = RcfParams {
            number_of_trees: 20,
            sub_sample_size: 10,
            time_decay: 40,
            ..RcfParams::default()
        };
        let mut forest = RandomCutForest::new(params, 4).expect("params");
        let mut data = Xoshiro256PlusPlus::seed_from_u64(6);
        for _ in 0..2000 {
            forest.score_and_update(&cluster_row(&mut data));
            let oldest_allowed = forest.points_seen().saturating_sub(40);
            for tree in &forest.trees {
                assert!(tree.sample.iter().all(|e| e.sequence >= oldest_allowed));
                assert_eq!(tree.sample.len() as u64, forest.points_seen().min(10));
            }
        }
        // The old regime is forgotten: after a shift, the new cluster is normal again.
        for _ in 0..200 {
            let row = cluster_row(&mut data);
            forest.score_and_update(&[row[0] + 100.0, row[1]]);
        }
        let shifted = cluster_row(&mut data);
        assert!(forest.score_and_update(&[shifted[0] + 100.0, shifted[1]]) < 2.0);
    }

    #[test]
    fn shingles_catch_a_break_in_a_pattern_single_rows_cannot() {
        // A square wave 0,0,0,0,1,1,1,1,...; then one period is 0,1,0,1: every single value is
        // ordinary, only the sequence is new.
        let params = RcfParams {
            number_of_trees: 50,
            shingle_size: 4,
            ..RcfParams::default()
        };
        let mut forest = RandomCutForest::new(params, 9).expect("params");
        let wave = |i: usize| if (i / 4).is_multiple_of(2) { 0.0 } else { 1.0 };
        let mut scores = Vec::new();
        for i in 0..2000 {
            let score = forest.score_and_update(&[wave(i)]);
            if i < 3 {
                assert_eq!(score, 0.0, "no point before the shingle is full");
            }
            if i > 1000 {
                scores.push(score);
            }
        }
        let typical = median(&mut scores);
        let mut glitch = 0.0_f64;
        for value in [0.0, 1.0, 0.0, 1.0] {
            glitch = glitch.max(forest.score_and_update(&[value]));
        }
        let steady_max = scores.iter().copied().fold(0.0, f64::max);
        assert!(
            glitch > 2.0 * typical,
            "glitch {glitch} vs typical {typical}"
        );
        assert!(
            glitch > steady_max,
            "glitch {glitch} vs steady max {steady_max}"
        );
        assert_eq!(forest.points_seen(), 2004 - 3);
    }

    #[test]
    fn explanation_points_high_at_the_column_that_is_high() {
        let mut forest = RandomCutForest::new(small_params(), 13).expect("params");
        let mut data = Xoshiro256PlusPlus::seed_from_u64(8);
        for _ in 0..1500 {
            forest.explain_and_update(&cluster_row(&mut data));
        }
        let explanation = forest.explain_and_update(&[10.0, 35.0]);
        let [x, y] = explanation.columns[..] else {
            panic!("two columns");
        };
        assert_eq!(y.direction, Direction::High);
        assert!(y.attribution_score > 5.0 * x.attribution_score);
        let sum = x.attribution_score + y.attribution_score;
        assert!((sum - explanation.anomaly_score).abs() < 1e-9 * sum.max(1.0));

        let low = forest.explain_and_update(&[-5.0, 20.0]);
        assert_eq!(low.columns[0].direction, Direction::Low);

        let json = explanation.to_json(&["x", "y"], true);
        let parsed: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
        assert_eq!(parsed["y"]["DIRECTION"], "HIGH");
        let attribution: f64 = parsed["y"]["ATTRIBUTION_SCORE"]
            .as_str()
            .expect("a string, as in the reference")
            .parse()
            .expect("a number");
        assert!((attribution - y.attribution_score).abs() < 1e-4);
        assert!(json.starts_with("{\"x\":{\"DIRECTION\":"), "{json}");
        assert_eq!(
            Explanation {
                anomaly_score: 0.5,
                columns: vec![ColumnAttribution {
                    attribution_score: 0.5,
                    strength: 0.25,
                    direction: Direction::Low,
                }],
            }
            .to_json(&["a\"b"], true),
            r#"{"a\"b":{"DIRECTION":"LOW","STRENGTH":"0.2500","ATTRIBUTION_SCORE":"0.5000"}}"#
        );
    }

    #[test]
    fn invalid_rows_score_zero_and_leave_the_model_alone() {
        let mut forest = RandomCutForest::new(small_params(), 1).expect("params");
        forest.score_and_update(&[1.0, 2.0]);
        assert_eq!(forest.score_and_update(&[f64::NAN, 2.0]), 0.0);
        assert_eq!(forest.score_and_update(&[1.0, 2.0, 3.0]), 0.0);
        assert_eq!(forest.score_and_update(&[]), 0.0);
        assert_eq!(forest.points_seen(), 1);
        let warming = forest.explain_and_update(&[f64::NAN, 1.0]);
        assert_eq!(warming.columns.len(), 2);
        assert_eq!(warming.columns[0].direction, Direction::Low);
        assert_eq!(warming.columns[0].strength, 0.0);
    }

    #[test]
    fn samples_stay_bounded_and_consistent_with_duplicates() {
        let params = RcfParams {
            number_of_trees: 5,
            sub_sample_size: 10,
            time_decay: 20,
            ..RcfParams::default()
        };
        let mut forest = RandomCutForest::new(params, 2).expect("params");
        for i in 0..3000 {
            // Many duplicates exercise leaf masses.
            forest.score_and_update(&[(i % 7) as f64, (i % 3) as f64]);
        }
        for tree in &forest.trees {
            assert_eq!(tree.sample.len(), 10);
            assert_eq!(tree.nodes[tree.root as usize].mass, 10);
        }
        let live = forest.store.refs.iter().filter(|&&count| count > 0).count();
        assert!(live <= 5 * 10);

        // Freed nodes with stale links and duplicate leaves survive a checkpoint.
        let snapshot = serde_json::to_vec(&forest).expect("serialises");
        let mut restored: RandomCutForest = serde_json::from_slice(&snapshot).expect("restores");
        for i in 0..500 {
            let row = [(i % 5) as f64, (i % 11) as f64];
            assert_eq!(
                forest.score_and_update(&row),
                restored.score_and_update(&row)
            );
        }
    }

    /// Throughput with the default 100 trees × 256: `cargo test --release -- --ignored`.
    #[test]
    #[ignore]
    fn throughput() {
        let mut forest = RandomCutForest::new(RcfParams::default(), 1).expect("params");
        let mut data = Xoshiro256PlusPlus::seed_from_u64(1);
        let rows: Vec<Vec<f64>> = (0..50_000).map(|_| cluster_row(&mut data)).collect();
        let start = std::time::Instant::now();
        for row in &rows {
            forest.score_and_update(row);
        }
        let elapsed = start.elapsed();
        let snapshot = serde_json::to_vec(&forest).expect("serialises");
        println!(
            "{} rows in {elapsed:?}: {:.0} rows/s; JSON snapshot {} bytes",
            rows.len(),
            rows.len() as f64 / elapsed.as_secs_f64(),
            snapshot.len()
        );
    }
}
