/**
 * Two small SVG charts the bench task draws from its own results (no hand edits): horizontal
 * bars, and lines over a log-scaled x axis.
 */

const esc = (s: string) =>
  s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");

/** Horizontal bars, one per row, with the value written at the end of each. */
export function barChart(
  title: string,
  rows: { label: string; value: number; highlight?: boolean }[],
  unit: string,
): string {
  const rowH = 26, labelW = 520, barW = 360, top = 40, width = labelW + barW + 90;
  const height = top + rows.length * rowH + 20;
  const max = Math.max(...rows.map((r) => r.value), 1e-9);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="13">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="24" font-size="15" font-weight="bold">${esc(title)}</text>`,
  ];
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    const w = Math.max(1, (r.value / max) * barW);
    parts.push(
      `<text x="${labelW - 8}" y="${y + 17}" text-anchor="end">${esc(r.label)}</text>`,
      `<rect x="${labelW}" y="${y + 4}" width="${w.toFixed(1)}" height="${rowH - 8}" fill="${
        r.highlight ? "#d9480f" : "#4c6ef5"
      }"/>`,
      `<text x="${(labelW + w + 6).toFixed(1)}" y="${y + 17}">${r.value.toFixed(2)}${
        esc(unit)
      }</text>`,
    );
  });
  parts.push("</svg>");
  return parts.join("\n") + "\n";
}

/** Lines of (x, y) points, x on a log10 axis, y linear from 0 to its maximum (at least yMin). */
export function lineChart(
  title: string,
  series: { name: string; color: string; points: [number, number][] }[],
  axes: { x: string; y: string; yMin?: number },
): string {
  const width = 780, height = 420, left = 70, right = 230, top = 40, bottom = 60;
  const xs = series.flatMap((s) => s.points.map((p) => p[0])).filter((x) => x > 0);
  const lo = Math.floor(Math.log10(Math.min(...xs)));
  const hi = Math.ceil(Math.log10(Math.max(...xs)));
  const yMax = Math.max(axes.yMin ?? 1, ...series.flatMap((s) => s.points.map((p) => p[1])));
  const px = (x: number) =>
    left + ((Math.log10(x) - lo) / Math.max(hi - lo, 1)) * (width - left - right);
  const py = (y: number) => top + (1 - y / yMax) * (height - top - bottom);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="13">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="24" font-size="15" font-weight="bold">${esc(title)}</text>`,
    `<line x1="${left}" y1="${py(0)}" x2="${width - right}" y2="${py(0)}" stroke="black"/>`,
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${py(0)}" stroke="black"/>`,
    `<text x="${(left + width - right) / 2}" y="${height - 15}" text-anchor="middle">${
      esc(axes.x)
    }</text>`,
    `<text x="15" y="${(top + height - bottom) / 2}" transform="rotate(-90 15 ${
      (top + height - bottom) / 2
    })" text-anchor="middle">${esc(axes.y)}</text>`,
  ];
  for (let e = lo; e <= hi; e++) {
    parts.push(
      `<line x1="${px(10 ** e)}" y1="${py(0)}" x2="${px(10 ** e)}" y2="${
        py(0) + 5
      }" stroke="black"/>`,
      `<text x="${px(10 ** e)}" y="${py(0) + 20}" text-anchor="middle">1e${e}</text>`,
    );
  }
  for (const f of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(
      `<text x="${left - 8}" y="${py(yMax * f) + 4}" text-anchor="end">${
        (yMax * f).toFixed(0)
      }</text>`,
      `<line x1="${left}" y1="${py(yMax * f)}" x2="${width - right}" y2="${
        py(yMax * f)
      }" stroke="#ddd"/>`,
    );
  }
  series.forEach((s, i) => {
    const pts = s.points.filter((p) => p[0] > 0).sort((a, b) => a[0] - b[0]);
    parts.push(
      `<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${
        pts.map((p) => `${px(p[0]).toFixed(1)},${py(p[1]).toFixed(1)}`).join(" ")
      }"/>`,
      ...pts.map((p) =>
        `<circle cx="${px(p[0]).toFixed(1)}" cy="${py(p[1]).toFixed(1)}" r="4" fill="${s.color}"/>`
      ),
      `<rect x="${width - right + 15}" y="${
        top + i * 22
      }" width="14" height="4" fill="${s.color}"/>`,
      `<text x="${width - right + 35}" y="${top + i * 22 + 6}">${esc(s.name)}</text>`,
    );
  });
  parts.push("</svg>");
  return parts.join("\n") + "\n";
}
