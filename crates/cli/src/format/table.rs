//! Docker's table output: cells separated by tabs, aligned as Go's
//! `tabwriter.NewWriter(out, 10, 1, 3, ' ', 0)` aligns them (each column
//! as wide as its widest cell plus 3, at least 10; the last cell of a
//! line is not padded).

/// Minimum column width.
const MIN_WIDTH: usize = 10;
/// Spaces after the widest cell of a column.
const PADDING: usize = 3;

/// Aligns tab-separated `text` (lines ending in `\n`).
pub fn align(text: &str) -> String {
    align_min(text, MIN_WIDTH)
}

/// Aligns with another minimum column width (`docker top` uses 20).
pub fn align_min(text: &str, min_width: usize) -> String {
    let lines: Vec<Vec<&str>> = text.lines().map(|l| l.split('\t').collect()).collect();
    let columns = lines
        .iter()
        .map(|l| l.len().saturating_sub(1))
        .max()
        .unwrap_or(0);
    let mut widths = vec![0usize; columns];
    for line in &lines {
        for (i, cell) in line.iter().take(line.len().saturating_sub(1)).enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    for w in &mut widths {
        *w = (*w + PADDING).max(min_width);
    }
    let mut out = String::with_capacity(text.len() * 2);
    for line in &lines {
        let last = line.len().saturating_sub(1);
        for (i, cell) in line.iter().enumerate() {
            out.push_str(cell);
            if i < last {
                let pad = widths[i] - cell.chars().count();
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_like_go_tabwriter() {
        let text = "CONTAINER ID\tIMAGE\tNAMES\nabc\tbusybox:latest\tweb\n";
        assert_eq!(
            align(text),
            "CONTAINER ID   IMAGE            NAMES\n\
             abc            busybox:latest   web\n"
        );
        // Narrow columns still take the minimum width.
        assert_eq!(align("A\tB\nc\td\n"), "A         B\nc         d\n");
    }
}
