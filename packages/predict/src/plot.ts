/**
 * The holdout figure as in FHL 2005 (figure 5): mean purchases in the holdout period by calibration frequency, actual
 * (solid, with points) against BG/NBD (dashed), on a PNG.
 */
import type { HoldoutRow } from './holdout.ts';
import { Raster, type Rgb } from './png.ts';

const INK: Rgb = [30, 30, 30];
const GRID: Rgb = [225, 225, 225];
const ACTUAL: Rgb = [31, 90, 180];
const MODEL: Rgb = [200, 60, 40];

export function holdoutPlot(rows: readonly HoldoutRow[], title: string, xLabel: string, yLabel: string): Buffer {
  const width = 800;
  const height = 560;
  const left = 90;
  const right = 30;
  const top = 70;
  const bottom = 90;
  const img = new Raster(width, height);
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const maxY = Math.max(1, ...rows.flatMap((r) => [r.actual, r.expected]));
  const yStep = maxY > 10 ? 2 : 1;
  const yTop = Math.ceil(maxY / yStep) * yStep;
  const px = (i: number): number => left + (plotW * (i + 0.5)) / rows.length;
  const py = (v: number): number => top + plotH - (plotH * v) / yTop;

  img.text((width - Raster.textWidth(title)) / 2, 10, title, INK);
  for (let v = 0; v <= yTop; v += yStep) {
    img.line(left, py(v), left + plotW, py(v), GRID);
    const label = `${v}`;
    img.text(left - 10 - Raster.textWidth(label), py(v) - 7, label, INK);
  }
  img.line(left, top, left, top + plotH, INK, 2);
  img.line(left, top + plotH, left + plotW, top + plotH, INK, 2);
  rows.forEach((r, i) => {
    img.line(px(i), top + plotH, px(i), top + plotH + 6, INK, 2);
    img.text(px(i) - Raster.textWidth(r.frequency) / 2, top + plotH + 14, r.frequency, INK);
  });
  img.text(left + (plotW - Raster.textWidth(xLabel)) / 2, height - 40, xLabel, INK);
  img.text(10, top - 30, yLabel, INK);

  for (let i = 1; i < rows.length; i++) {
    const p = rows[i - 1] as HoldoutRow;
    const q = rows[i] as HoldoutRow;
    img.line(px(i - 1), py(p.actual), px(i), py(q.actual), ACTUAL, 3);
    img.line(px(i - 1), py(p.expected), px(i), py(q.expected), MODEL, 3, 8);
  }
  rows.forEach((r, i) => {
    img.rect(px(i) - 4, py(r.actual) - 4, 9, 9, ACTUAL);
  });

  const legendX = left + 30;
  img.line(legendX, top + 20, legendX + 40, top + 20, ACTUAL, 3);
  img.text(legendX + 50, top + 13, 'ACTUAL', INK);
  img.line(legendX, top + 45, legendX + 40, top + 45, MODEL, 3, 8);
  img.text(legendX + 50, top + 38, 'BG/NBD', INK);
  return img.png();
}
