//! The chart of calls per run — ours, a naive poller's, the lower bound — one panel per
//! function, drawn with plotters into a PNG. Text is rendered with ab_glyph from a vendored
//! DejaVu Sans (no system font libraries needed).

use std::path::Path;

use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

use crate::{Error, Result};

static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// One function's series, indexed by run (0 = the first, full run).
#[derive(Debug, Clone)]
pub struct Panel {
    pub function: String,
    pub ours: Vec<u64>,
    pub naive: Vec<u64>,
    pub lower_bound: Vec<u64>,
}

fn err(e: impl std::fmt::Display) -> Error {
    Error::msg(format!("chart: {e}"))
}

/// Draw `panels` side by side into `path` (PNG), log-scaled calls per run.
pub fn draw(path: &Path, title: &str, panels: &[Panel]) -> Result<()> {
    register_font("sans-serif", FontStyle::Normal, FONT).map_err(|_| err("the vendored font does not load"))?;
    let width = 560 * panels.len().max(1) as u32;
    let root = BitMapBackend::new(path, (width, 520)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let root = root.titled(title, ("sans-serif", 22)).map_err(err)?;
    let areas = root.split_evenly((1, panels.len().max(1)));
    for (area, panel) in areas.iter().zip(panels) {
        let runs = panel.ours.len().max(panel.naive.len()).max(panel.lower_bound.len()).max(1);
        let max = panel.ours.iter().chain(&panel.naive).chain(&panel.lower_bound).copied().max().unwrap_or(1).max(1);
        // Head room above the highest line for the legend.
        let top = (max as f64 * 8.0).max(10.0);
        let mut chart = ChartBuilder::on(area)
            .caption(&panel.function, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d(-0.5f64..(runs as f64 - 0.5), (0.8f64..top).log_scale())
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("run (0 = first, full)")
            .y_desc("API calls (log)")
            .x_labels(runs.min(12))
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_label_formatter(&|y| format!("{y:.0}"))
            .label_style(("sans-serif", 13))
            .axis_desc_style(("sans-serif", 14))
            .draw()
            .map_err(err)?;
        // The lower bound is drawn wide and light underneath, so "ours" stays visible on it.
        let series = [
            ("naive poller", &panel.naive, RGBColor(200, 60, 60), 2),
            ("lower bound", &panel.lower_bound, RGBColor(120, 200, 130), 7),
            ("ours", &panel.ours, RGBColor(40, 90, 200), 2),
        ];
        for (label, values, color, width) in series {
            let points: Vec<(f64, f64)> =
                values.iter().enumerate().map(|(i, v)| (i as f64, (*v as f64).max(1.0))).collect();
            chart
                .draw_series(LineSeries::new(points.clone(), color.stroke_width(width)))
                .map_err(err)?
                .label(label)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(width)));
            chart.draw_series(points.iter().map(|p| Circle::new(*p, 3, color.filled()))).map_err(err)?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 13))
            .draw()
            .map_err(err)?;
    }
    root.present().map_err(err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_a_png() {
        let dir = std::env::temp_dir().join(format!("bench-chart-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("chart.png");
        let panel = Panel {
            function: "list-and-publish".into(),
            ours: vec![230, 12, 11, 13],
            naive: vec![220, 220, 220, 220],
            lower_bound: vec![225, 11, 11, 12],
        };
        draw(&path, "calls per run", &[panel.clone(), panel]).expect("drawn");
        let bytes = std::fs::read(&path).expect("file");
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }
}
