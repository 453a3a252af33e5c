const SVG = "http://www.w3.org/2000/svg";
/** The drawing's own units; the SVG stretches to its box (strokes keep their width). */
const WIDTH = 600;
const HEIGHT = 100;

/** One line: `[time, value]` points, oldest first; a null value is a gap in the line. */
export interface ChartLine {
  readonly points: ReadonlyArray<readonly [t: number, value: number | null]>;
  /** Class of its stroke (its colour, in dashboard.css). */
  readonly className: string;
}

/**
 * A small line chart as inline SVG: every line over the time range `from`..`to`, on a scale from 0 to
 * `yMax`, with quarter grid lines. Labels are the caller's (HTML text stays sharp where the SVG stretches).
 */
export function lineChart(lines: readonly ChartLine[], from: number, to: number, yMax: number): SVGSVGElement {
  const svg = svgElement("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, preserveAspectRatio: "none", class: "line-chart", role: "img" });
  for (const fraction of [0.25, 0.5, 0.75]) {
    svg.append(svgElement("line", { x1: 0, x2: WIDTH, y1: HEIGHT * fraction, y2: HEIGHT * fraction, class: "grid", "vector-effect": "non-scaling-stroke" }));
  }
  const span = Math.max(1, to - from);
  const x = (t: number) => (((t - from) / span) * WIDTH).toFixed(1);
  const y = (value: number) => (HEIGHT - (Math.min(value, yMax) / yMax) * HEIGHT).toFixed(1);
  for (const line of lines) {
    for (const run of unbrokenRuns(line.points)) {
      const points = run.map(([t, value]) => `${x(t)},${y(value)}`).join(" ");
      // A lone point (its neighbours are gaps) is drawn as a dot, else a polyline of one point shows nothing.
      svg.append(run.length === 1 ? svgElement("circle", { cx: x(run[0]![0]), cy: y(run[0]![1]), r: 1.5, class: `dot ${line.className}` }) : svgElement("polyline", { points, class: line.className, "vector-effect": "non-scaling-stroke" }));
    }
  }
  return svg;
}

/** A round top for a scale holding `max`: 1, 2 or 5 times a power of ten (1 when there is nothing to show). */
export function niceCeiling(max: number): number {
  if (!(max > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 5, 10]) if (max <= step * power) return step * power;
  return 10 * power;
}

/** The points between gaps, each run without nulls. */
function unbrokenRuns(points: ChartLine["points"]): Array<Array<readonly [number, number]>> {
  const runs: Array<Array<readonly [number, number]>> = [];
  let run: Array<readonly [number, number]> = [];
  for (const [t, value] of points) {
    if (value === null) {
      if (run.length > 0) runs.push(run);
      run = [];
    } else run.push([t, value]);
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

function svgElement<K extends keyof SVGElementTagNameMap>(tag: K, attributes: Record<string, string | number>): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  return element;
}
