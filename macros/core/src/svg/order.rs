//! The two optimisations of the layered layout: the order of the nodes
//! within each column (fewer crossings) and their heights (straighter
//! edges). Both work on plain indices; `layout` builds the columns.

/// The nodes of each column, top to bottom, and who each node is joined to
/// in the columns left (`left[node]`) and right (`right[node]`) of it.
pub(super) struct Layered {
    pub(super) columns: Vec<Vec<usize>>,
    pub(super) left: Vec<Vec<usize>>,
    pub(super) right: Vec<Vec<usize>>,
}

/// Barycenter sweeps, alternately left to right and back, each followed by
/// swaps of neighbours that cross less the other way round; keeps the
/// order with the fewest crossings seen, and stops after `PATIENCE` sweeps
/// that found none fewer.
const SWEEPS: usize = 12;
const PATIENCE: usize = 3;

impl Layered {
    /// Each node's place in its column.
    fn positions(&self) -> Vec<usize> {
        let mut position = vec![0; self.left.len()];
        for column in &self.columns {
            for (place, &node) in column.iter().enumerate() {
                position[node] = place;
            }
        }
        position
    }

    /// Reorders the columns to reduce edge crossings.
    pub(super) fn reduce_crossings(&mut self) {
        let mut position = self.positions();
        let mut best = self.columns.clone();
        let mut fewest = self.crossings();
        let mut since_better = 0;
        for sweep in 0..SWEEPS {
            if fewest == 0 {
                break;
            }
            let rightwards = sweep % 2 == 0;
            let count = self.columns.len();
            let order: Vec<usize> = if rightwards {
                (1..count).collect()
            } else {
                (0..count.saturating_sub(1)).rev().collect()
            };
            for column in order {
                self.sort_by_barycenter(column, rightwards, &mut position);
            }
            self.transpose(&mut position);
            let crossings = self.crossings();
            if crossings < fewest {
                fewest = crossings;
                best.clone_from(&self.columns);
                since_better = 0;
            } else {
                since_better += 1;
                if since_better == PATIENCE {
                    break;
                }
            }
        }
        self.columns = best;
    }

    /// Orders `column` by the mean place of each node's neighbours in the
    /// column it was reached from; a node with none keeps its place.
    fn sort_by_barycenter(&mut self, column: usize, rightwards: bool, position: &mut [usize]) {
        let neighbours = if rightwards { &self.left } else { &self.right };
        let mut keyed: Vec<(f64, usize, usize)> = self.columns[column]
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
        self.columns[column] = keyed.into_iter().map(|(_, _, node)| node).collect();
        for (place, &node) in self.columns[column].iter().enumerate() {
            position[node] = place;
        }
    }

    /// Swaps neighbours within a column while that removes crossings.
    fn transpose(&mut self, position: &mut [usize]) {
        let mut improved = true;
        let mut rounds = 0;
        while improved && rounds < 4 {
            improved = false;
            rounds += 1;
            for column in 0..self.columns.len() {
                for place in 1..self.columns[column].len() {
                    let (upper, lower) =
                        (self.columns[column][place - 1], self.columns[column][place]);
                    if self.pair_crossings(lower, upper, position)
                        < self.pair_crossings(upper, lower, position)
                    {
                        self.columns[column].swap(place - 1, place);
                        position[upper] = place;
                        position[lower] = place - 1;
                        improved = true;
                    }
                }
            }
        }
    }

    /// Crossings between the edges of `upper` and those of `lower` when
    /// `upper` is placed above `lower`, on both sides.
    fn pair_crossings(&self, upper: usize, lower: usize, position: &[usize]) -> usize {
        let mut crossings = 0;
        for side in [&self.left, &self.right] {
            for &a in &side[upper] {
                crossings += side[lower]
                    .iter()
                    .filter(|&&b| position[b] < position[a])
                    .count();
            }
        }
        crossings
    }

    /// All crossings between neighbouring columns: for each, the pairs of
    /// segments whose right ends are in the other order than their left.
    pub(super) fn crossings(&self) -> usize {
        let position = self.positions();
        let mut total = 0;
        let mut segments = Vec::new();
        let mut seen = Vec::new();
        for (index, column) in self.columns.iter().enumerate() {
            segments.clear();
            for &node in column {
                segments.extend(
                    self.right[node]
                        .iter()
                        .map(|&n| (position[node], position[n])),
                );
            }
            segments.sort_unstable();
            let next = self.columns.get(index + 1).map_or(0, Vec::len);
            total += inversions(segments.iter().map(|&(_, end)| end), next, &mut seen);
        }
        total
    }
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

/// Least-squares positions for a column: as close to `wanted` as possible,
/// in order, each at least `gaps[i - 1]` below the one before it. Pool
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
