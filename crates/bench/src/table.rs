//! The table: one row per SPEC §8 metric, printed as Markdown and written as JSON.

/// What a row's numbers are held against.
#[derive(Debug, Clone, Copy)]
pub enum Goal {
    /// The given percentile must be at most the bound.
    AtMost { percentile: f64, bound: f64 },
    /// The median (or single value) must be at least the bound.
    AtLeast(f64),
    /// No bound of its own (reported apart, or judged in the note).
    None,
}

/// One line of the table.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Row {
    pub metric: String,
    pub target: String,
    pub unit: &'static str,
    pub samples: usize,
    pub p50: Option<f64>,
    pub p95: Option<f64>,
    pub p99: Option<f64>,
    /// The reference system's figure, measured in this run.
    pub reference: Option<String>,
    /// Measured ÷ reference, where the two compare.
    pub ratio: Option<f64>,
    pub verdict: String,
    pub note: String,
}

impl Row {
    /// A row from raw samples (any order).
    pub fn new(
        metric: &str,
        target: &str,
        unit: &'static str,
        goal: Goal,
        values: Vec<f64>,
    ) -> Self {
        let mut values = values;
        values.sort_by(f64::total_cmp);
        let verdict = match (goal, values.is_empty()) {
            (_, true) => "not measured",
            (Goal::None, false) => "—",
            (
                Goal::AtMost {
                    percentile: p,
                    bound,
                },
                false,
            ) => {
                if percentile(&values, p).is_some_and(|v| v <= bound) {
                    "met"
                } else {
                    "missed"
                }
            }
            (Goal::AtLeast(bound), false) => {
                if percentile(&values, 50.0).is_some_and(|v| v >= bound) {
                    "met"
                } else {
                    "missed"
                }
            }
        };
        let many = values.len() > 1;
        Self {
            metric: metric.into(),
            target: target.into(),
            unit,
            samples: values.len(),
            p50: percentile(&values, 50.0),
            p95: percentile(&values, 95.0).filter(|_| many),
            p99: percentile(&values, 99.0).filter(|_| many),
            reference: None,
            ratio: None,
            verdict: verdict.into(),
            note: String::new(),
        }
    }

    /// A row for something this run could not measure, saying why.
    pub fn skipped(metric: &str, target: &str, unit: &'static str, why: &str) -> Self {
        Self::new(metric, target, unit, Goal::None, Vec::new()).note(why)
    }

    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.note = note.into();
        self
    }

    pub fn reference(mut self, reference: impl Into<String>, ratio: Option<f64>) -> Self {
        self.reference = Some(reference.into());
        self.ratio = ratio;
        self
    }

    /// Overrides the verdict (e.g. a target relative to a reference measured in this run).
    pub fn verdict(mut self, met: bool) -> Self {
        if self.samples > 0 {
            self.verdict = if met { "met" } else { "missed" }.into();
        }
        self
    }
}

pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted.get(rank.min(sorted.len() - 1)).copied()
}

/// Sorted copy's percentile, for callers holding unsorted samples.
pub fn percentile_of(values: &[f64], p: f64) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    percentile(&sorted, p)
}

#[allow(clippy::print_stdout, reason = "a bench prints its table")]
pub fn print(rows: &[Row]) {
    let cell = |v: Option<f64>| {
        v.map_or("—".to_owned(), |v| {
            if v >= 100.0 {
                format!("{v:.0}")
            } else {
                format!("{v:.1}")
            }
        })
    };
    println!(
        "\n| metric | target | n | p50 | p95 | p99 | unit | reference (same run) | ratio | verdict | note |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for r in rows {
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.metric,
            r.target,
            r.samples,
            cell(r.p50),
            cell(r.p95),
            cell(r.p99),
            r.unit,
            r.reference.as_deref().unwrap_or("—"),
            r.ratio.map_or("—".to_owned(), |x| format!("{x:.2}×")),
            r.verdict,
            r.note
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_follow_the_goal() {
        let at_most = Goal::AtMost {
            percentile: 99.0,
            bound: 10.0,
        };
        assert_eq!(
            Row::new("m", "t", "ms", at_most, vec![1.0, 9.0]).verdict,
            "met"
        );
        assert_eq!(
            Row::new("m", "t", "ms", at_most, vec![1.0, 11.0]).verdict,
            "missed"
        );
        assert_eq!(
            Row::new("m", "t", "req/s", Goal::AtLeast(1000.0), vec![1200.0]).verdict,
            "met"
        );
        assert_eq!(
            Row::new("m", "t", "ms", at_most, Vec::new()).verdict,
            "not measured"
        );
        let single = Row::new("m", "t", "KiB", Goal::None, vec![3.0]);
        assert_eq!((single.p50, single.p99), (Some(3.0), None));
    }

    #[test]
    fn percentiles_pick_the_nearest_rank() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&values, 50.0), Some(51.0));
        assert_eq!(percentile(&values, 99.0), Some(99.0));
        assert_eq!(percentile_of(&[3.0, 1.0, 2.0], 100.0), Some(3.0));
    }
}
