package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ftcost/ftcost/internal/costchart"
)

type point struct{ X, Y float64 }

// svgChart is what the test reads back from a chart's SVG: the two cost lines (their points in
// drawing order), the green circles' centres, and the texts.
type svgChart struct {
	api, fineTune []point
	circles       []point
	texts         []string
}

func hexColor(c color.Color) string {
	r, g, b, _ := c.RGBA()
	return fmt.Sprintf("#%02X%02X%02X", r>>8, g>>8, b>>8)
}

var pathPoint = regexp.MustCompile(`[ML]([-0-9.e]+),([-0-9.e]+)`)

func parseSVG(t *testing.T, data []byte) svgChart {
	t.Helper()
	var c svgChart
	dec := xml.NewDecoder(bytes.NewReader(data))
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		attr := map[string]string{}
		for _, a := range se.Attr {
			attr[a.Name.Local] = a.Value
		}
		switch se.Name.Local {
		case "text":
			var s string
			if err := dec.DecodeElement(&s, &se); err != nil {
				t.Fatal(err)
			}
			c.texts = append(c.texts, strings.TrimSpace(s))
		case "path":
			d, style := attr["d"], attr["style"]
			var pts []point
			for _, m := range pathPoint.FindAllStringSubmatch(d, -1) {
				x, _ := strconv.ParseFloat(m[1], 64)
				y, _ := strconv.ParseFloat(m[2], 64)
				pts = append(pts, point{x, y})
			}
			switch {
			case strings.Contains(style, "stroke:"+hexColor(costchart.APIColor)) && len(pts) > len(c.api):
				c.api = pts // the longest red path: the legend's sample is two points
			case strings.Contains(style, "stroke:"+hexColor(costchart.FineTuneColor)) && len(pts) > len(c.fineTune):
				c.fineTune = pts
			case strings.Contains(style, "fill:"+hexColor(costchart.BreakEvenColor)) && strings.Contains(d, "A") && len(pts) == 1:
				// A circle is M(x+r, y) then two arcs: its centre is 5 points (the glyph radius) to the left.
				c.circles = append(c.circles, point{pts[0].X - 5, pts[0].Y})
			}
		}
	}
	return c
}

// crossing is where the fine-tune line first meets the API line from above, in drawing units.
func crossing(api, ft []point) (point, bool) {
	for i := 1; i < len(api) && i < len(ft); i++ {
		d0, d1 := ft[i-1].Y-api[i-1].Y, ft[i].Y-api[i].Y
		if d0 > 0 && d1 <= 0 {
			f := d0 / (d0 - d1)
			return point{api[i-1].X + f*(api[i].X-api[i-1].X), api[i-1].Y + f*(api[i].Y-api[i-1].Y)}, true
		}
		if d0 <= 0 && i == 1 {
			return api[0], true // no upfront cost: break-even at month 0
		}
	}
	return point{}, false
}

// statusBreakEven is the break-even month ftcost estimate prints for a file.
func statusBreakEven(t *testing.T, file string) (string, int) {
	t.Helper()
	r := ftcost(t, "", "estimate", "-f", file, "-o", "json")
	var l struct {
		Items []struct {
			Status struct {
				BreakEvenMonths string `json:"breakEvenMonths"`
				HorizonMonths   int    `json:"horizonMonths"`
			} `json:"status"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(r.out), &l); err != nil || len(l.Items) != 1 {
		t.Fatalf("estimate -o json: %v\n%s%s", err, r.out, r.err)
	}
	return l.Items[0].Status.BreakEvenMonths, l.Items[0].Status.HorizonMonths
}

// TestChartCrossesAtBreakEven draws each sample's chart and reads the SVG back: the two cumulative
// cost lines cross at the month the status gives as breakEvenMonths, the green marker sits on the
// crossing, and its label names that month.
func TestChartCrossesAtBreakEven(t *testing.T) {
	samples := filepath.Join("..", "..", "config", "samples")
	for name, tc := range map[string]struct {
		file          string
		wantBreakEven string // "" for never
		wantMonths    int    // months on the chart
	}{
		"article example 1":               {"support-bot.yaml", "20.0", 36},
		"code assistant":                  {"code-assistant.yaml", "10.0", 36},
		"weekly retraining":               {"contract-classifier-weekly.yaml", "12.5", 36},
		"full fine-tune, band is visible": {"support-bot-full-cost.yaml", "26.3", 36},
		"break-even after the horizon":    {"contract-classifier-monthly.yaml", "50.0", 55},
		"never pays for itself":           {"openai-managed.yaml", "", 36},
	} {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(samples, tc.file)
			be, horizon := statusBreakEven(t, file)
			if be != tc.wantBreakEven {
				t.Fatalf("status.breakEvenMonths %q, want %q", be, tc.wantBreakEven)
			}
			r := ftcost(t, "", "chart", "-f", file)
			if r.code != ExitOK || r.err != "" {
				t.Fatalf("exit %d: %s", r.code, r.err)
			}
			c := parseSVG(t, []byte(r.out))
			if len(c.api) != tc.wantMonths+1 || len(c.fineTune) != tc.wantMonths+1 {
				t.Fatalf("API line has %d points, fine-tune line %d; want months 0..%d", len(c.api), len(c.fineTune), tc.wantMonths)
			}
			for _, want := range []string{"month", "cumulative cost (USD)", "$0", "API path: cumulative API cost"} {
				if !contains(c.texts, want) {
					t.Errorf("no text %q in %q", want, c.texts)
				}
			}
			if tc.wantMonths > horizon && !contains(c.texts, fmt.Sprintf("horizon: month %d", horizon)) {
				t.Errorf("the chart runs past the horizon but does not mark it: %q", c.texts)
			}
			// Month m sits at x0 + m x (one month's width), read off the API line's own points.
			x0, perMonth := c.api[0].X, (c.api[len(c.api)-1].X-c.api[0].X)/float64(tc.wantMonths)
			cross, crossed := crossing(c.api, c.fineTune)
			if tc.wantBreakEven == "" {
				if crossed || len(c.circles) != 0 || !contains(c.texts, "the fine-tune never pays for itself") {
					t.Errorf("crossed %v at %v, circles %v, texts %q; want no crossing and a title saying so", crossed, cross, c.circles, c.texts)
				}
				return
			}
			if !crossed {
				t.Fatal("the lines do not cross")
			}
			month := (cross.X - x0) / perMonth
			want, _ := strconv.ParseFloat(tc.wantBreakEven, 64)
			if math.Abs(month-want) > 0.05 { // the status rounds to one decimal
				t.Errorf("the lines cross at month %.3f, status.breakEvenMonths is %s", month, tc.wantBreakEven)
			}
			onCrossing := 0
			for _, m := range c.circles {
				if math.Abs(m.X-cross.X) < 0.05*perMonth && math.Abs(m.Y-cross.Y) < 1 {
					onCrossing++
				}
			}
			if onCrossing != 1 {
				t.Errorf("want one break-even marker on the crossing %v, circles at %v", cross, c.circles)
			}
			if !contains(c.texts, "break-even: month "+tc.wantBreakEven) {
				t.Errorf("no label %q in %q", "break-even: month "+tc.wantBreakEven, c.texts)
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.Contains(x, s) {
			return true
		}
	}
	return false
}

func TestChartFormats(t *testing.T) {
	file := filepath.Join("..", "..", "config", "samples", "support-bot.yaml")
	dir := t.TempDir()
	for name, tc := range map[string]struct {
		args    []string
		out     string
		wantPNG bool
		code    int
	}{
		"svg to stdout":          {args: nil, code: ExitOK},
		"png by extension":       {args: []string{"--out", filepath.Join(dir, "a.png")}, out: filepath.Join(dir, "a.png"), wantPNG: true, code: ExitOK},
		"svg by extension":       {args: []string{"--out", filepath.Join(dir, "a.svg")}, out: filepath.Join(dir, "a.svg"), code: ExitOK},
		"png by flag":            {args: []string{"--out", filepath.Join(dir, "chart"), "--format", "png"}, out: filepath.Join(dir, "chart"), wantPNG: true, code: ExitOK},
		"unknown format":         {args: []string{"--format", "gif"}, code: ExitInput},
		"two names":              {args: []string{"a", "b"}, code: ExitInput},
		"a name not in the file": {args: []string{"nope"}, code: ExitInput},
	} {
		t.Run(name, func(t *testing.T) {
			r := ftcost(t, "", append([]string{"chart", "-f", file}, tc.args...)...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d: %s", r.code, tc.code, r.err)
			}
			if tc.code != ExitOK {
				return
			}
			data := []byte(r.out)
			if tc.out != "" {
				var err error
				if data, err = os.ReadFile(tc.out); err != nil {
					t.Fatal(err)
				}
			}
			if tc.wantPNG {
				img, err := png.Decode(bytes.NewReader(data))
				if err != nil {
					t.Fatalf("not a PNG: %v", err)
				}
				if n := countColor(img, costchart.APIColor); n < 100 {
					t.Errorf("only %d pixels of the API line's colour in the PNG", n)
				}
				return
			}
			if !bytes.Contains(data, []byte("<svg")) {
				t.Errorf("not an SVG: %.100s", data)
			}
		})
	}
}

// countColor counts the pixels within a small distance of c.
func countColor(img image.Image, c color.Color) int {
	wr, wg, wb, _ := c.RGBA()
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bb, _ := img.At(x, y).RGBA()
			if absDiff(r, wr)+absDiff(g, wg)+absDiff(bb, wb) < 3*0x1800 {
				n++
			}
		}
	}
	return n
}

func absDiff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}

// TestChartInABrowser renders the SVG in headless Chromium and checks that the picture is not blank:
// both cost lines and the break-even marker show in their colours. CI machines without Chromium
// skip it; install it with `apt-get install chromium` (Debian) to run it.
func TestChartInABrowser(t *testing.T) {
	browser := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			browser = p
			break
		}
	}
	if browser == "" {
		t.Skip("no Chromium on PATH (chromium, chromium-browser or google-chrome): the SVG is not rendered in a browser; apt-get install chromium to run this test")
	}
	dir := t.TempDir()
	svg := filepath.Join(dir, "support-bot-full-cost.svg")
	if r := ftcost(t, "", "chart", "-f", filepath.Join("..", "..", "config", "samples", "support-bot-full-cost.yaml"), "--out", svg); r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.err)
	}
	shot := filepath.Join(dir, "screenshot.png")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--window-size=900,600", "--screenshot="+shot, "file://"+svg)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", browser, err, out)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	white := countColor(img, color.White)
	t.Logf("%s: %dx%d screenshot, %.1f%% white, API red %d px, fine-tune blue %d px, break-even green %d px",
		filepath.Base(browser), b.Dx(), b.Dy(), 100*float64(white)/float64(b.Dx()*b.Dy()),
		countColor(img, costchart.APIColor), countColor(img, costchart.FineTuneColor), countColor(img, costchart.BreakEvenColor))
	if white > b.Dx()*b.Dy()*99/100 {
		t.Errorf("the screenshot is blank: %d of %d pixels white", white, b.Dx()*b.Dy())
	}
	for name, c := range map[string]color.Color{"API line": costchart.APIColor, "fine-tune line": costchart.FineTuneColor, "break-even marker": costchart.BreakEvenColor} {
		if n := countColor(img, c); n < 50 {
			t.Errorf("the %s's colour shows in only %d pixels", name, n)
		}
	}
	if keep := os.Getenv("FTCOST_KEEP_SCREENSHOT"); keep != "" {
		data, _ := os.ReadFile(shot)
		_ = os.WriteFile(keep, data, 0o644)
	}
}
