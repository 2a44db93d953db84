package main

import (
	"fmt"
	"image/color"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

var (
	opaColor     = color.RGBA{R: 0x7f, G: 0x7f, B: 0x7f, A: 0xff}
	handColor    = color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}
	verdictColor = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
)

// streamDash draws each stream's throughput line its own way.
var streamDash = map[string][]vg.Length{
	"sessions": nil,
	"uniform":  {vg.Points(6), vg.Points(3)},
	"norepeat": {vg.Points(1.5), vg.Points(2.5)},
}

// drawPlot draws throughput (per stream) and peak RSS against user count, for
// the three servers, side by side in one PNG.
func drawPlot(r Results, path string) error {
	if len(r.Sizes) == 0 {
		return nil
	}
	// One line per server, drawn the same on both panels.
	lines := []struct {
		name string
		c    color.Color
		get  func(Size) Server
	}{
		{"OPA + Verdict bundle", opaColor, func(s Size) Server { return s.OPA }},
		{"OPA + hand-written", handColor, func(s Size) Server { return s.Hand }},
		{"verdict", verdictColor, func(s Size) Server { return s.Verdict }},
	}
	tp := plot.New()
	tp.Title.Text = "Decisions per second"
	tp.X.Label.Text = "end users in the org"
	tp.Y.Label.Text = "decisions/s"
	tp.X.Scale, tp.X.Tick.Marker = plot.LogScale{}, plot.LogTicks{}
	tp.Legend.Left = true // the bottom left stays empty: throughput starts well above 0
	for _, mix := range mixesOf(r.Sizes[0]) {
		dash := streamDash[mix]
		for _, srv := range lines {
			pts := plotter.XYs{}
			for _, s := range r.Sizes {
				pts = append(pts, plotter.XY{X: float64(s.Users), Y: srv.get(s).Mix[mix].DecisionsPerSec})
			}
			if err := addLine(tp, fmt.Sprintf("%s, %s mix", srv.name, mix), pts, srv.c, dash); err != nil {
				return err
			}
		}
	}
	tp.Y.Min = 0

	mp := plot.New()
	mp.Title.Text = "Peak resident memory"
	mp.X.Label.Text = "end users in the org"
	mp.Y.Label.Text = "MiB (log)"
	mp.X.Scale, mp.X.Tick.Marker = plot.LogScale{}, plot.LogTicks{}
	mp.Y.Scale, mp.Y.Tick.Marker = plot.LogScale{}, plot.LogTicks{}
	mp.Legend.Top, mp.Legend.Left = true, true
	for _, srv := range lines {
		pts := plotter.XYs{}
		for _, s := range r.Sizes {
			pts = append(pts, plotter.XY{X: float64(s.Users), Y: max(srv.get(s).PeakRSSMiB, 1)})
		}
		if err := addLine(mp, srv.name, pts, srv.c, nil); err != nil {
			return err
		}
	}

	img := vgimg.New(vg.Points(1000), vg.Points(480))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Points(20), PadTop: vg.Points(10), PadBottom: vg.Points(10), PadLeft: vg.Points(10), PadRight: vg.Points(10)}
	tp.Draw(tiles.At(dc, 0, 0))
	mp.Draw(tiles.At(dc, 1, 0))
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = vgimg.PngCanvas{Canvas: img}.WriteTo(f)
	return err
}

func addLine(p *plot.Plot, name string, pts plotter.XYs, c color.Color, dash []vg.Length) error {
	l, s, err := plotter.NewLinePoints(pts)
	if err != nil {
		return err
	}
	l.Color, s.Color = c, c
	l.Dashes = dash
	l.Width = vg.Points(2)
	p.Add(l, s)
	p.Legend.Add(name, l, s)
	return nil
}
