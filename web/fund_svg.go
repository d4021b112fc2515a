package web

import (
	"fmt"
	"html"
	"html/template"
	"strings"

	"shelin/fund"
	"shelin/internal/money"
)

// Server-rendered SVG charts for the fund pages: no script, no outside
// resources, readable without colour (every bar carries its amount).

type chartBar struct {
	Label  string
	Amount money.Amount
}

// barChart draws labelled horizontal bars, largest first as given.
func barChart(title string, bars []chartBar, color string) template.HTML {
	const w, rowH, labelW, valueW = 640, 34, 200, 120
	h := rowH*len(bars) + 8
	if len(bars) == 0 {
		return ""
	}
	max := 0.0
	for _, b := range bars {
		if f, _ := b.Amount.Decimal().Float64(); f > max {
			max = f
		}
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg class="chart" viewBox="0 0 %d %d" width="100%%" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`, w, h, html.EscapeString(title))
	fmt.Fprintf(&sb, `<title>%s</title>`, html.EscapeString(title))
	for i, b := range bars {
		y := 4 + i*rowH
		f, _ := b.Amount.Decimal().Float64()
		bw := 0.0
		if max > 0 {
			bw = f / max * float64(w-labelW-valueW-10)
		}
		if f > 0 && bw < 2 {
			bw = 2
		}
		fmt.Fprintf(&sb, `<text x="%d" y="%d" font-size="16" text-anchor="end" fill="#111">%s</text>`, labelW-8, y+21, html.EscapeString(truncate(b.Label, 12)))
		fmt.Fprintf(&sb, `<rect x="%d" y="%d" width="%.1f" height="%d" rx="3" fill="%s"/>`, labelW, y+6, bw, rowH-12, color)
		fmt.Fprintf(&sb, `<text x="%.1f" y="%d" font-size="16" fill="#111">%s</text>`, float64(labelW)+bw+8, y+21, b.Amount.Yuan())
	}
	sb.WriteString(`</svg>`)
	return template.HTML(sb.String())
}

// monthChart draws money in (green) and committed out (gold) per month as
// paired columns with a legend in words.
func monthChart(title, inLabel, outLabel string, months []fund.MonthFlow) template.HTML {
	if len(months) == 0 {
		return ""
	}
	const w, h, top, bottom, left = 640, 240, 30, 40, 10
	max := 0.0
	for _, m := range months {
		for _, a := range []money.Amount{m.In, m.Out} {
			if f, _ := a.Decimal().Float64(); f > max {
				max = f
			}
		}
	}
	slot := float64(w-2*left) / float64(len(months))
	colW := slot * 0.36
	plotH := float64(h - top - bottom)
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg class="chart" viewBox="0 0 %d %d" width="100%%" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`, w, h, html.EscapeString(title))
	fmt.Fprintf(&sb, `<title>%s</title>`, html.EscapeString(title))
	fmt.Fprintf(&sb, `<rect x="10" y="6" width="14" height="14" fill="#0b5d1e"/><text x="30" y="18" font-size="15">%s</text>`, html.EscapeString(inLabel))
	fmt.Fprintf(&sb, `<rect x="170" y="6" width="14" height="14" fill="#b8860b"/><text x="190" y="18" font-size="15">%s</text>`, html.EscapeString(outLabel))
	fmt.Fprintf(&sb, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#767676"/>`, left, h-bottom, w-left, h-bottom)
	for i, m := range months {
		x := float64(left) + float64(i)*slot + slot*0.12
		for k, a := range []money.Amount{m.In, m.Out} {
			f, _ := a.Decimal().Float64()
			bh := 0.0
			if max > 0 {
				bh = f / max * plotH
			}
			fill := "#0b5d1e"
			if k == 1 {
				fill = "#b8860b"
			}
			fmt.Fprintf(&sb, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s</title></rect>`,
				x+float64(k)*colW, float64(h-bottom)-bh, colW, bh, fill, m.Month, a.Yuan())
		}
		label := m.Month
		if len(label) == 7 {
			label = strings.TrimPrefix(label[5:], "0") + "月"
		}
		fmt.Fprintf(&sb, `<text x="%.1f" y="%d" font-size="14" text-anchor="middle">%s</text>`, x+colW, h-bottom+20, label)
	}
	sb.WriteString(`</svg>`)
	return template.HTML(sb.String())
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
