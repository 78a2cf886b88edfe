/**
 * A hand-written SVG chart of the benchmark results: one panel of horizontal
 * bars per measurement, the machine and date in the title. No dependencies.
 */

export interface Bar {
  readonly label: string
  readonly value: number
  /** Text shown after the bar (default: the value). */
  readonly note?: string
  readonly highlight?: boolean
}

export interface Panel {
  readonly title: string
  readonly bars: ReadonlyArray<Bar>
}

const escapeXml = (text: string): string =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")

const width = 760
const labelWidth = 230
const barArea = 380
const barHeight = 18
const gap = 6

export const render = (title: string, subtitle: string, panels: ReadonlyArray<Panel>): string => {
  const out: Array<string> = []
  let y = 74
  for (const panel of panels) {
    out.push(`<text x="16" y="${y}" class="panel">${escapeXml(panel.title)}</text>`)
    y += 10
    const max = Math.max(...panel.bars.map((bar) => bar.value), Number.MIN_VALUE)
    for (const bar of panel.bars) {
      const length = Math.max(1, (bar.value / max) * barArea)
      const fill = bar.highlight === true ? "#2f6fdf" : "#9aa5b1"
      out.push(
        `<text x="${16 + labelWidth - 8}" y="${y + 13}" class="label" text-anchor="end">${escapeXml(bar.label)}</text>`,
        `<rect x="${16 + labelWidth}" y="${y}" width="${length.toFixed(1)}" height="${barHeight}" fill="${fill}" rx="2"/>`,
        `<text x="${16 + labelWidth + length + 6}" y="${y + 13}" class="value">${escapeXml(bar.note ?? String(bar.value))}</text>`
      )
      y += barHeight + gap
    }
    y += 22
  }
  const height = y
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif">`,
    `<title>${escapeXml(`${title}: ${subtitle}`)}</title>`,
    "<style>.title{font-size:18px;font-weight:600}.sub{font-size:12px;fill:#555}.panel{font-size:14px;font-weight:600}.label{font-size:12px}.value{font-size:12px;fill:#333}</style>",
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="16" y="24" class="title">${escapeXml(title)}</text>`,
    `<text x="16" y="42" class="sub">${escapeXml(subtitle)}</text>`,
    ...out,
    "</svg>",
    ""
  ].join("\n")
}
