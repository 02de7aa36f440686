using System.Globalization;
using System.Text;
using ResilientQueue.Backpressure;

namespace LlmExtraction.Monitoring;

/// <summary>
/// Writes the run as an SVG chart (no tool needed to view it: any browser, or GitHub's Markdown): above, the adaptive
/// concurrency limit, the calls in flight and the model's hidden capacity C; below, the median latency of the model's
/// answers; shaded where the producer saw backpressure at the high watermark.
/// </summary>
internal static class SvgChart
{
    private const int Width = 960;
    private const int Left = 56;
    private const int Right = 24;
    private const int TopHeight = 250;
    private const int BottomHeight = 150;
    private const int Gap = 44;
    private const int Top = 48;

    public static string Render(IReadOnlyList<PipelineSample> samples, string title, TimeSpan? requeueAt)
    {
        double end = Math.Max(1, samples.Count == 0 ? 1 : samples[^1].At.TotalSeconds);
        double permitsMax = NiceCeiling(Math.Max(10, samples.Select(s => Math.Max(Math.Max(s.Limit, s.InFlight), s.Capacity)).DefaultIfEmpty(10).Max() * 1.1));
        double[] latencies = [.. samples.Where(s => s.LatencyMs > 0).Select(s => s.LatencyMs).Order()];
        double latencyTop = latencies.Length == 0 ? 100 : latencies[(int)Math.Min(latencies.Length - 1, latencies.Length * 0.99)] * 1.15;
        double latencyMax = NiceCeiling(Math.Max(50, latencyTop));
        int plotWidth = Width - Left - Right;
        int bottomTop = Top + TopHeight + Gap;
        int height = bottomTop + BottomHeight + 56;

        double X(TimeSpan t) => Left + (t.TotalSeconds / end * plotWidth);
        double YTop(double v) => Top + TopHeight - (v / permitsMax * TopHeight);
        double YBottom(double v) => bottomTop + BottomHeight - (Math.Min(v, latencyMax) / latencyMax * BottomHeight);

        var svg = new StringBuilder();
        svg.Append(F($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{height}\" viewBox=\"0 0 {Width} {height}\" font-family=\"sans-serif\" font-size=\"12\">\n"));
        svg.Append(F($"<rect width=\"{Width}\" height=\"{height}\" fill=\"#ffffff\"/>\n"));
        svg.Append(F($"<text x=\"{Left}\" y=\"22\" font-size=\"15\" font-weight=\"bold\">{Escape(title)}</text>\n"));

        // Backpressure: shade each stretch of samples at Elevated or Saturated, across both panels.
        for (int i = 0; i < samples.Count; i++)
        {
            if (samples[i].Level == BackpressureLevel.Normal)
            {
                continue;
            }

            int j = i;
            while (j + 1 < samples.Count && samples[j + 1].Level != BackpressureLevel.Normal)
            {
                j++;
            }

            double x0 = X(samples[i].At);
            double x1 = j + 1 < samples.Count ? X(samples[j + 1].At) : X(samples[j].At);
            svg.Append(F($"<rect x=\"{x0:0.#}\" y=\"{Top}\" width=\"{Math.Max(1, x1 - x0):0.#}\" height=\"{TopHeight}\" fill=\"#fdebd0\"/>\n"));
            svg.Append(F($"<rect x=\"{x0:0.#}\" y=\"{bottomTop}\" width=\"{Math.Max(1, x1 - x0):0.#}\" height=\"{BottomHeight}\" fill=\"#fdebd0\"/>\n"));
            i = j;
        }

        Axes(svg, Top, TopHeight, permitsMax, "permits", end, plotWidth);
        Axes(svg, bottomTop, BottomHeight, latencyMax, "latency (ms)", end, plotWidth);
        svg.Append(F($"<text x=\"{Left + (plotWidth / 2)}\" y=\"{bottomTop + BottomHeight + 34}\" text-anchor=\"middle\">seconds since the start</text>\n"));

        if (requeueAt is { } requeue)
        {
            double x = X(requeue);
            svg.Append(F($"<line x1=\"{x:0.#}\" y1=\"{Top}\" x2=\"{x:0.#}\" y2=\"{bottomTop + BottomHeight}\" stroke=\"#7d3c98\" stroke-dasharray=\"2 3\"/>\n"));
            svg.Append(F($"<text x=\"{x - 4:0.#}\" y=\"{Top + 12}\" fill=\"#7d3c98\" text-anchor=\"end\">dead letters requeued</text>\n"));
        }

        Line(svg, samples.Select(s => (X(s.At), YTop(s.Capacity))), "#7f8c8d", 2, "6 4", step: true);
        Line(svg, samples.Select(s => (X(s.At), YTop(s.InFlight))), "#27ae60", 1.5, null, step: false);
        Line(svg, samples.Select(s => (X(s.At), YTop(s.Limit))), "#2e86c1", 2.5, null, step: true);
        Line(svg, samples.Where(s => s.LatencyMs > 0).Select(s => (X(s.At), YBottom(s.LatencyMs))), "#c0392b", 1.5, null, step: false);

        (string Label, string Color, string? Dash)[] legend =
        [
            ("concurrency limit", "#2e86c1", null), ("in flight", "#27ae60", null), ("hidden capacity C", "#7f8c8d", "6 4"),
            ("latency, median per sample", "#c0392b", null),
        ];
        double lx = Left;
        foreach ((string label, string color, string? dash) in legend)
        {
            svg.Append(F($"<line x1=\"{lx:0.#}\" y1=\"36\" x2=\"{lx + 22:0.#}\" y2=\"36\" stroke=\"{color}\" stroke-width=\"2.5\"{(dash is null ? "" : $" stroke-dasharray=\"{dash}\"")}/>\n"));
            svg.Append(F($"<text x=\"{lx + 27:0.#}\" y=\"40\">{label}</text>\n"));
            lx += 40 + (label.Length * 6.6);
        }

        svg.Append(F($"<rect x=\"{lx:0.#}\" y=\"30\" width=\"22\" height=\"12\" fill=\"#fdebd0\"/><text x=\"{lx + 27:0.#}\" y=\"40\">backpressure (queue at 80 % or more)</text>\n"));
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    private static void Axes(StringBuilder svg, int top, int height, double max, string label, double end, int plotWidth)
    {
        for (int i = 0; i <= 4; i++)
        {
            double v = max * i / 4;
            double y = top + height - (height * i / 4.0);
            svg.Append(F($"<line x1=\"{Left}\" y1=\"{y:0.#}\" x2=\"{Left + plotWidth}\" y2=\"{y:0.#}\" stroke=\"#e5e7e9\"/>\n"));
            svg.Append(F($"<text x=\"{Left - 6}\" y=\"{y + 4:0.#}\" text-anchor=\"end\">{v:0.#}</text>\n"));
        }

        double step = NiceCeiling(end / 10);
        for (double t = 0; t <= end + 1e-9; t += step)
        {
            double x = Left + (t / end * plotWidth);
            svg.Append(F($"<line x1=\"{x:0.#}\" y1=\"{top + height}\" x2=\"{x:0.#}\" y2=\"{top + height + 4}\" stroke=\"#566573\"/>\n"));
            svg.Append(F($"<text x=\"{x:0.#}\" y=\"{top + height + 17}\" text-anchor=\"middle\">{t:0.#}</text>\n"));
        }

        svg.Append(F($"<rect x=\"{Left}\" y=\"{top}\" width=\"{plotWidth}\" height=\"{height}\" fill=\"none\" stroke=\"#566573\"/>\n"));
        svg.Append(F($"<text x=\"14\" y=\"{top + (height / 2)}\" text-anchor=\"middle\" transform=\"rotate(-90 14 {top + (height / 2)})\">{label}</text>\n"));
    }

    private static void Line(StringBuilder svg, IEnumerable<(double X, double Y)> points, string color, double width, string? dash, bool step)
    {
        var path = new StringBuilder();
        (double X, double Y)? previous = null;
        foreach ((double x, double y) in points)
        {
            if (previous is null)
            {
                path.Append(F($"M{x:0.#},{y:0.#}"));
            }
            else if (step)
            {
                path.Append(F($" H{x:0.#} V{y:0.#}"));
            }
            else
            {
                path.Append(F($" L{x:0.#},{y:0.#}"));
            }

            previous = (x, y);
        }

        if (previous is not null)
        {
            svg.Append(F($"<path d=\"{path}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"{width}\"{(dash is null ? "" : $" stroke-dasharray=\"{dash}\"")}/>\n"));
        }
    }

    /// <summary>1, 2, 2.5 or 5 times a power of ten, at least <paramref name="value"/>.</summary>
    private static double NiceCeiling(double value)
    {
        double power = Math.Pow(10, Math.Floor(Math.Log10(Math.Max(value, 1e-9))));
        foreach (double m in (double[])[1, 2, 2.5, 5, 10])
        {
            if (m * power >= value)
            {
                return m * power;
            }
        }

        return 10 * power;
    }

    private static string Escape(string text) => text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal);

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
