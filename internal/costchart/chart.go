// Package costchart draws when fine-tuning pays for itself: the cumulative cost of the API path against
// the fine-tune path (upfront, then serving) month by month, the break-even point where they cross,
// and the band of the training estimate. It draws with gonum/plot; money reaches it already computed
// by the engine and is turned into floats only to place lines on the page.
package costchart

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/ftcost/ftcost/engine"
)

// Colours of the chart's elements; tests find the lines by them.
var (
	APIColor       = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}  // red
	FineTuneColor  = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}  // blue
	BandColor      = color.NRGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0x50} // the fine-tune blue, faint
	BreakEvenColor = color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}  // green
	HorizonColor   = color.RGBA{R: 0x7f, G: 0x7f, B: 0x7f, A: 0xff}  // grey
)

// Size of the image.
var (
	Width  = 9 * vg.Inch
	Height = 5.5 * vg.Inch
)

// Input is what the chart shows.
type Input struct {
	// Title names the estimate.
	Title string
	// Months are the engine's months 1..N; the chart starts at month 0, before any request.
	Months []engine.Month
	// Upfront is the fine-tune path's cost at month 0.
	Upfront engine.Money
	// BandLow and BandHigh are the upfront cost with training at the low and high end of its estimate
	// (GPU-hours -/+30%); nil when the hours were measured or billed per token.
	BandLow, BandHigh *engine.Money
	// BreakEven is the month where the lines cross, as the status gives it (one decimal); nil when
	// the fine-tune never pays for itself.
	BreakEven *decimal.Decimal
	// HorizonMonths is the estimate's horizon; when Months run past it (to show a later break-even)
	// a vertical line marks it.
	HorizonMonths int32
	// Currency labels the money axis.
	Currency string
}

// Plot builds the chart.
func Plot(in *Input) (*plot.Plot, error) {
	if len(in.Months) == 0 {
		return nil, fmt.Errorf("no months to chart")
	}
	p := plot.New()
	p.Title.Text = in.Title
	p.X.Label.Text = "month"
	p.Y.Label.Text = "cumulative cost (" + in.Currency + ")"
	p.Y.Tick.Marker = moneyTicks{currency: in.Currency}
	p.X.Tick.Marker = monthTicks{}
	p.X.Min = 0
	p.Y.Min = 0
	p.Add(plotter.NewGrid())
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.XOffs, p.Legend.YOffs = vg.Points(8), -vg.Points(4)
	p.Legend.Padding = vg.Points(3)
	p.Title.Padding = vg.Points(8)

	n := len(in.Months)
	api := make(plotter.XYs, n+1)
	ft := make(plotter.XYs, n+1)
	api[0] = plotter.XY{X: 0, Y: 0}
	ft[0] = plotter.XY{X: 0, Y: money(in.Upfront)}
	for i, mo := range in.Months {
		api[i+1] = plotter.XY{X: float64(mo.Month), Y: money(mo.CumulativeAPI)}
		ft[i+1] = plotter.XY{X: float64(mo.Month), Y: money(mo.CumulativeFineTune)}
	}

	if in.BandLow != nil && in.BandHigh != nil {
		// The fine-tune path with training at either end of its estimate: the same months, the
		// upfront cost shifted.
		low, high := money(in.BandLow.Sub(in.Upfront)), money(in.BandHigh.Sub(in.Upfront))
		band := make(plotter.XYs, 0, 2*(n+1))
		for _, pt := range ft {
			band = append(band, plotter.XY{X: pt.X, Y: pt.Y + low})
		}
		for i := len(ft) - 1; i >= 0; i-- {
			band = append(band, plotter.XY{X: ft[i].X, Y: ft[i].Y + high})
		}
		poly, err := plotter.NewPolygon(band)
		if err != nil {
			return nil, err
		}
		poly.Color = BandColor
		poly.LineStyle.Width = 0
		p.Add(poly)
		p.Legend.Add(fmt.Sprintf("fine-tune path with training GPU-hours -/+30%%: upfront %s to %s", in.BandLow.String(), in.BandHigh.String()), poly)
	}

	apiLine, err := plotter.NewLine(api)
	if err != nil {
		return nil, err
	}
	apiLine.Color, apiLine.Width = APIColor, vg.Points(2)
	ftLine, err := plotter.NewLine(ft)
	if err != nil {
		return nil, err
	}
	ftLine.Color, ftLine.Width = FineTuneColor, vg.Points(2)
	p.Add(apiLine, ftLine)
	p.Legend.Add("API path: cumulative API cost", apiLine)
	p.Legend.Add("fine-tune path: upfront "+in.Upfront.String()+", then serving", ftLine)

	last := float64(in.Months[n-1].Month)
	if in.HorizonMonths > 0 && float64(in.HorizonMonths) < last {
		top := math.Max(api[n].Y, ft[n].Y)
		h, err := plotter.NewLine(plotter.XYs{{X: float64(in.HorizonMonths), Y: 0}, {X: float64(in.HorizonMonths), Y: top}})
		if err != nil {
			return nil, err
		}
		h.Color, h.Width, h.Dashes = HorizonColor, vg.Points(1), []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(h)
		p.Legend.Add(fmt.Sprintf("horizon: month %d", in.HorizonMonths), h)
	}

	if in.BreakEven != nil {
		be, _ := in.BreakEven.Float64()
		if be <= last {
			y := atMonth(api, be)
			pt := plotter.XYs{{X: be, Y: y}}
			mark, err := plotter.NewScatter(pt)
			if err != nil {
				return nil, err
			}
			mark.GlyphStyle = draw.GlyphStyle{Color: BreakEvenColor, Radius: vg.Points(5), Shape: draw.CircleGlyph{}}
			p.Add(mark)
			labels, err := plotter.NewLabels(plotter.XYLabels{XYs: pt,
				Labels: []string{"break-even: month " + in.BreakEven.StringFixed(1)}})
			if err != nil {
				return nil, err
			}
			labels.Offset = vg.Point{X: vg.Points(8), Y: -vg.Points(14)}
			if be > 0.7*last { // keep the label inside the chart: left of the marker
				labels.TextStyle[0].XAlign = text.XRight
				labels.Offset = vg.Point{X: -vg.Points(8), Y: vg.Points(6)} // above the fine-tune line, where nothing is drawn
			}
			p.Add(labels)
			p.Legend.Add("break-even", mark)
		} else {
			p.Title.Text += "\nbreak-even at month " + in.BreakEven.StringFixed(1) + ", after the chart's last month"
		}
	} else {
		p.Title.Text += "\nthe fine-tune never pays for itself"
	}
	return p, nil
}

// atMonth is the value of a line through points at months 0, 1, 2, ... at month m.
func atMonth(line plotter.XYs, m float64) float64 {
	i := int(math.Floor(m))
	if i >= len(line)-1 {
		return line[len(line)-1].Y
	}
	f := m - float64(i)
	return line[i].Y + f*(line[i+1].Y-line[i].Y)
}

func money(m engine.Money) float64 {
	f, _ := m.Decimal().Float64()
	return f
}

// Render writes the chart as "svg" or "png".
func Render(w io.Writer, in *Input, format string) error {
	switch format {
	case "svg", "png":
	default:
		return fmt.Errorf("unknown chart format %q: use svg or png", format)
	}
	p, err := Plot(in)
	if err != nil {
		return err
	}
	wt, err := p.WriterTo(Width, Height, format)
	if err != nil {
		return err
	}
	_, err = wt.WriteTo(w)
	return err
}

// moneyTicks are the default ticks labelled as money: "$1,000" for USD.
type moneyTicks struct{ currency string }

func (t moneyTicks) Ticks(min, max float64) []plot.Tick {
	step := niceStep((max - min) / 6)
	var ticks []plot.Tick
	for v := math.Ceil(min/step) * step; v <= max; v += step {
		ticks = append(ticks, plot.Tick{Value: v, Label: formatMoney(v, t.currency)})
		if minor := v + step/2; minor <= max {
			ticks = append(ticks, plot.Tick{Value: minor})
		}
	}
	return ticks
}

// niceStep is 1, 2 or 5 times a power of ten, at least x.
func niceStep(x float64) float64 {
	if x <= 0 {
		return 1
	}
	pow := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*pow >= x {
			return m * pow
		}
	}
	return 10 * pow
}

func formatMoney(v float64, currency string) string {
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	digits := decimal.NewFromFloat(v).Round(0).String()
	var b strings.Builder
	for i, r := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if currency == "USD" {
		return sign + "$" + b.String()
	}
	return sign + b.String() + " " + currency
}

// monthTicks label whole months only.
type monthTicks struct{}

func (monthTicks) Ticks(min, max float64) []plot.Tick {
	step := math.Max(1, niceStep((max-min)/8))
	var ticks []plot.Tick
	for v := math.Ceil(min/step) * step; v <= max; v += step {
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', 0, 64)})
	}
	return ticks
}
