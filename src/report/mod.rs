//! Human-readable reports built from window rows.

mod breach;
mod month;
pub mod rating;
pub mod weekly;

pub use breach::{breach_table, format_value};
pub use month::worst_of_month;

/// Writes a table with its first column left-aligned and the others right-aligned.
pub(crate) fn write_aligned(out: &mut String, table: &[Vec<String>]) {
    use std::fmt::Write;
    let widths: Vec<usize> = (0..table[0].len()).map(|i| table.iter().map(|l| l[i].chars().count()).max().unwrap_or(0)).collect();
    for line in table {
        let cells: Vec<String> =
            line.iter().zip(&widths).enumerate().map(|(i, (c, w))| if i == 0 { format!("{c:<w$}") } else { format!("{c:>w$}") }).collect();
        let _ = writeln!(out, "{}", cells.join("  ").trim_end());
    }
}
