using System.Globalization;

namespace ResilientQueue.AspNetCore.Rendering;

/// <summary>A line chart as inline SVG (no script): one polyline per series over a shared time axis, with a legend.</summary>
internal static class SvgChart
{
    private const int Width = 720, Height = 160, Left = 44, Bottom = 20, Top = 8;

    private static readonly string[] Colors = ["#2457c5", "#b54708", "#067647", "#b42318", "#6941c6"];

    public static Html Render(Html html, string label, IReadOnlyList<DateTimeOffset> times, IReadOnlyList<(string Name, IReadOnlyList<double> Values)> series)
    {
        html.Raw("<figure class=\"chart\"><svg role=\"img\" xmlns=\"http://www.w3.org/2000/svg\"")
            .Attr("viewBox", $"0 0 {Width} {Height}").Attr("width", "100%").Attr("aria-label", label).Raw(">");
        html.Raw("<title>").Text(label).Raw("</title>");
        if (times.Count < 2)
        {
            html.Raw("<text x=\"50%\" y=\"50%\" text-anchor=\"middle\" fill=\"#5b6475\">").Text("Not enough samples yet").Raw("</text></svg>");
            return Legend(html, label, series).Raw("</figure>");
        }

        double max = Math.Max(1, series.SelectMany(s => s.Values).DefaultIfEmpty(0).Max());
        double span = Math.Max(1, (times[^1] - times[0]).TotalSeconds);
        int plotW = Width - Left - 8, plotH = Height - Top - Bottom;
        html.Raw("<line stroke=\"#d8dde6\"").Attr("x1", Left).Attr("y1", Top + plotH).Attr("x2", Left + plotW).Attr("y2", Top + plotH).Raw("/>")
            .Raw("<text font-size=\"11\" fill=\"#5b6475\" text-anchor=\"end\"").Attr("x", Left - 4).Attr("y", Top + 10).Raw(">").Text(Number(max)).Raw("</text>")
            .Raw("<text font-size=\"11\" fill=\"#5b6475\" text-anchor=\"end\"").Attr("x", Left - 4).Attr("y", Top + plotH).Raw(">0</text>")
            .Raw("<text font-size=\"11\" fill=\"#5b6475\"").Attr("x", Left).Attr("y", Height - 4).Raw(">").Text(times[0].UtcDateTime.ToString("HH:mm'Z'", CultureInfo.InvariantCulture)).Raw("</text>")
            .Raw("<text font-size=\"11\" fill=\"#5b6475\" text-anchor=\"end\"").Attr("x", Left + plotW).Attr("y", Height - 4).Raw(">").Text(times[^1].UtcDateTime.ToString("HH:mm'Z'", CultureInfo.InvariantCulture)).Raw("</text>");
        for (int s = 0; s < series.Count; s++)
        {
            IReadOnlyList<double> values = series[s].Values;
            var points = new System.Text.StringBuilder();
            for (int i = 0; i < values.Count && i < times.Count; i++)
            {
                double x = Left + ((times[i] - times[0]).TotalSeconds / span * plotW);
                double y = Top + plotH - (values[i] / max * plotH);
                points.Append(x.ToString("0.#", CultureInfo.InvariantCulture)).Append(',').Append(y.ToString("0.#", CultureInfo.InvariantCulture)).Append(' ');
            }

            html.Raw("<polyline fill=\"none\" stroke-width=\"2\"").Attr("stroke", Colors[s % Colors.Length]).Attr("points", points.ToString().TrimEnd()).Raw("/>");
        }

        return Legend(html.Raw("</svg>"), label, series).Raw("</figure>");
    }

    private static Html Legend(Html html, string label, IReadOnlyList<(string Name, IReadOnlyList<double> Values)> series)
    {
        html.Raw("<figcaption class=\"muted\">").Text(label).Raw(": ");
        for (int s = 0; s < series.Count; s++)
        {
            html.Raw("<span").Attr("class", "c" + (s % Colors.Length).ToString(CultureInfo.InvariantCulture)).Raw(">&#9632; ").Text(series[s].Name)
                .Raw("</span> (now ").Text(series[s].Values.Count > 0 ? Number(series[s].Values[^1]) : "-").Raw(") ");
        }

        return html.Raw("</figcaption>");
    }

    private static string Number(double v) => v.ToString(v >= 100 ? "0" : "0.##", CultureInfo.InvariantCulture);
}
