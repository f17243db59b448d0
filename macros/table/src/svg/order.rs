//! The two optimisations of the layered layout: the order of the nodes
//! within each rank (fewer crossings) and their places along it
//! (straighter edges). Both work on plain indices; `layout` builds the
//! ranks.

/// The nodes of each rank, in order, and who each node is joined to in the
/// rank before (`before[node]`) and after (`after[node]`) it.
pub(super) struct Layered {
    pub(super) ranks: Vec<Vec<usize>>,
    pub(super) before: Vec<Vec<usize>>,
    pub(super) after: Vec<Vec<usize>>,
}

/// Barycenter sweeps, alternately forwards and back; the order with the
/// fewest crossings seen is kept, and the sweeps stop after `PATIENCE`
/// that found none fewer.
const SWEEPS: usize = 8;
const PATIENCE: usize = 2;

impl Layered {
    /// Each node's place in its rank.
    fn positions(&self) -> Vec<usize> {
        let mut position = vec![0; self.before.len()];
        for rank in &self.ranks {
            for (place, &node) in rank.iter().enumerate() {
                position[node] = place;
            }
        }
        position
    }

    /// Reorders the ranks to reduce edge crossings.
    pub(super) fn reduce_crossings(&mut self) {
        let mut position = self.positions();
        let mut best = self.ranks.clone();
        let mut fewest = self.crossings();
        let mut since_better = 0;
        for sweep in 0..SWEEPS {
            if fewest == 0 {
                break;
            }
            let forwards = sweep % 2 == 0;
            let count = self.ranks.len();
            let order: Vec<usize> = if forwards {
                (1..count).collect()
            } else {
                (0..count.saturating_sub(1)).rev().collect()
            };
            for rank in order {
                self.sort_by_barycenter(rank, forwards, &mut position);
            }
            let crossings = self.crossings();
            if crossings < fewest {
                fewest = crossings;
                best.clone_from(&self.ranks);
                since_better = 0;
            } else {
                since_better += 1;
                if since_better == PATIENCE {
                    break;
                }
            }
        }
        self.ranks = best;
        // Swapping neighbours polishes the best order found (only it: a
        // proc macro runs unoptimised in most builds, so effort counts).
        if fewest > 0 {
            let mut position = self.positions();
            self.transpose(&mut position);
        }
    }

    /// Orders `rank` by the mean place of each node's neighbours in the
    /// rank it was reached from; a node with none keeps its place.
    fn sort_by_barycenter(&mut self, rank: usize, forwards: bool, position: &mut [usize]) {
        let neighbours = if forwards { &self.before } else { &self.after };
        let mut keyed: Vec<(f64, usize, usize)> = self.ranks[rank]
            .iter()
            .map(|&node| {
                let around = &neighbours[node];
                let key = if around.is_empty() {
                    float(position[node])
                } else {
                    around.iter().map(|&n| float(position[n])).sum::<f64>() / float(around.len())
                };
                (key, position[node], node)
            })
            .collect();
        keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        self.ranks[rank] = keyed.into_iter().map(|(_, _, node)| node).collect();
        for (place, &node) in self.ranks[rank].iter().enumerate() {
            position[node] = place;
        }
    }

    /// Swaps neighbours within a rank while that removes crossings.
    fn transpose(&mut self, position: &mut [usize]) {
        let mut improved = true;
        let mut rounds = 0;
        while improved && rounds < 4 {
            improved = false;
            rounds += 1;
            for rank in &mut self.ranks {
                for place in 1..rank.len() {
                    let (first, second) = (rank[place - 1], rank[place]);
                    let (kept, swapped) =
                        pair_crossings(&self.before, &self.after, first, second, position);
                    if swapped < kept {
                        rank.swap(place - 1, place);
                        position[first] = place;
                        position[second] = place - 1;
                        improved = true;
                    }
                }
            }
        }
    }

    /// All crossings between neighbouring ranks: for each, the pairs of
    /// segments whose ends are in the other order than their starts.
    pub(super) fn crossings(&self) -> usize {
        let position = self.positions();
        let mut total = 0;
        let mut segments = Vec::new();
        let mut seen = Vec::new();
        for (index, rank) in self.ranks.iter().enumerate() {
            segments.clear();
            for &node in rank {
                segments.extend(
                    self.after[node]
                        .iter()
                        .map(|&n| (position[node], position[n])),
                );
            }
            segments.sort_unstable();
            let next = self.ranks.get(index + 1).map_or(0, Vec::len);
            total += inversions(segments.iter().map(|&(_, end)| end), next, &mut seen);
        }
        total
    }
}

/// Crossings between the edges of two nodes of a rank, on both sides:
/// with `first` placed before `second`, and the other way round. (Plain
/// loops: a proc macro runs unoptimised in most builds.)
fn pair_crossings(
    before: &[Vec<usize>],
    after: &[Vec<usize>],
    first: usize,
    second: usize,
    position: &[usize],
) -> (usize, usize) {
    let (mut kept, mut swapped) = (0, 0);
    for side in [before, after] {
        for &a in &side[first] {
            for &b in &side[second] {
                let (a, b) = (position[a], position[b]);
                kept += usize::from(b < a);
                swapped += usize::from(a < b);
            }
        }
    }
    (kept, swapped)
}

/// Pairs out of order in `values`, each below `bound`: a Fenwick tree of
/// the values seen so far counts, for each, those greater before it.
fn inversions(values: impl Iterator<Item = usize>, bound: usize, tree: &mut Vec<usize>) -> usize {
    tree.clear();
    tree.resize(bound + 1, 0);
    let mut count = 0;
    for (seen, value) in values.enumerate() {
        // How many seen so far are at most `value`.
        let mut at_most = 0;
        let mut index = value + 1;
        while index > 0 {
            at_most += tree[index];
            index &= index - 1;
        }
        count += seen - at_most;
        let mut index = value + 1;
        while index <= bound {
            tree[index] += 1;
            index += index & index.wrapping_neg();
        }
    }
    count
}

/// Least-squares positions for a rank: as close to `wanted` as possible,
/// in order, each at least `gaps[i - 1]` past the one before it. Pool
/// adjacent violators on the positions less their minimum offsets.
pub(super) fn spread(wanted: &[f64], gaps: &[f64]) -> Vec<f64> {
    let mut offsets = Vec::with_capacity(wanted.len());
    let mut offset = 0.0;
    for index in 0..wanted.len() {
        if index > 0 {
            offset += gaps[index - 1];
        }
        offsets.push(offset);
    }
    // Blocks of (sum, count) whose means never decrease.
    let mut blocks: Vec<(f64, f64)> = Vec::new();
    for (target, offset) in wanted.iter().zip(&offsets) {
        blocks.push((target - offset, 1.0));
        while let [.., (sum_a, count_a), (sum_b, count_b)] = blocks[..] {
            if sum_a / count_a <= sum_b / count_b {
                break;
            }
            blocks.pop();
            blocks.pop();
            blocks.push((sum_a + sum_b, count_a + count_b));
        }
    }
    let mut out = Vec::with_capacity(wanted.len());
    for (sum, count) in blocks {
        let mean = sum / count;
        for _ in 0..count_to_usize(count) {
            out.push(mean + offsets[out.len()]);
        }
    }
    out
}

/// Indices and counts as coordinates (tables have far fewer than 2^32 states).
pub(super) fn float(count: usize) -> f64 {
    f64::from(u32::try_from(count).unwrap_or(u32::MAX))
}

#[expect(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "a block's count is a sum of ones"
)]
fn count_to_usize(count: f64) -> usize {
    count.round() as usize
}

#[cfg(test)]
mod tests {
    use super::{inversions, spread};

    #[test]
    fn inversions_counts_pairs_out_of_order() {
        let count = |values: &[usize]| inversions(values.iter().copied(), 8, &mut Vec::new());
        assert_eq!(count(&[]), 0);
        assert_eq!(count(&[1, 2, 2, 3]), 0, "equal values do not cross");
        assert_eq!(count(&[3, 2, 1]), 3);
        let values = [4, 1, 3, 1, 0, 2, 7, 0];
        let expected = (0..values.len())
            .flat_map(|i| (i + 1..values.len()).map(move |j| (i, j)))
            .filter(|&(i, j)| values[i] > values[j])
            .count();
        assert_eq!(count(&values), expected);
    }

    #[test]
    fn spread_keeps_order_and_gaps_and_is_least_squares() {
        // Free: each where wanted.
        assert_eq!(
            spread(&[0.0, 50.0, 100.0], &[10.0, 10.0]),
            [0.0, 50.0, 100.0]
        );
        // Two wanting the same place share the difference.
        assert_eq!(spread(&[20.0, 20.0], &[10.0]), [15.0, 25.0]);
        // Wanted in the wrong order: pooled, centred on the mean.
        assert_eq!(spread(&[30.0, 0.0, 0.0], &[10.0, 10.0]), [0.0, 10.0, 20.0]);
    }
}
