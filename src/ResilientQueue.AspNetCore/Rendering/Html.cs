using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;

namespace ResilientQueue.AspNetCore.Rendering;

/// <summary>
/// Builds a page. Markup is appended only from string literals of this assembly (<see cref="Raw"/>); every value that
/// comes from a queue, a job, a request or the configuration goes through <see cref="Text"/> or <see cref="Attr"/>, which
/// HTML-encode it, so no payload, error or name is ever rendered as markup.
/// </summary>
internal sealed class Html
{
    private readonly StringBuilder _sb = new(4096);

    /// <summary>Appends markup written in this assembly (never data).</summary>
    public Html Raw(string markup)
    {
        _sb.Append(markup);
        return this;
    }

    /// <summary>Appends a value as text, HTML-encoded.</summary>
    public Html Text(object? value)
    {
        _sb.Append(HtmlEncoder.Default.Encode(Format(value)));
        return this;
    }

    /// <summary>Appends <c> name="value"</c> with the value HTML-encoded (quotes included).</summary>
    public Html Attr(string name, object? value)
    {
        _sb.Append(' ').Append(name).Append("=\"").Append(HtmlEncoder.Default.Encode(Format(value))).Append('"');
        return this;
    }

    /// <summary>A table cell holding a value as text.</summary>
    public Html Cell(object? value) => Raw("<td>").Text(value).Raw("</td>");

    /// <summary>A link: <c>&lt;a href="url"&gt;text&lt;/a&gt;</c>, both encoded.</summary>
    public Html Link(string url, object? text) => Raw("<a").Attr("href", url).Raw(">").Text(text).Raw("</a>");

    /// <summary>A hidden form field.</summary>
    public Html Hidden(string name, object? value) => Raw("<input type=\"hidden\"").Attr("name", name).Attr("value", value).Raw(">");

    public override string ToString() => _sb.ToString();

    internal static string Format(object? value) => value switch
    {
        null => string.Empty,
        DateTimeOffset t => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture),
        TimeSpan d => Age(d),
        double d => d.ToString("0.##", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };

    /// <summary>A duration as the CLI shows it: <c>850ms</c>, <c>42s</c>, <c>5m 3s</c>, <c>2h 10m</c>, <c>3d 4h</c>.</summary>
    internal static string Age(TimeSpan d)
    {
        if (d < TimeSpan.Zero)
        {
            d = TimeSpan.Zero;
        }

        return d.TotalSeconds < 1 ? $"{(int)d.TotalMilliseconds}ms"
            : d.TotalMinutes < 1 ? $"{(int)d.TotalSeconds}s"
            : d.TotalHours < 1 ? $"{d.Minutes}m {d.Seconds}s"
            : d.TotalDays < 1 ? $"{(int)d.TotalHours}h {d.Minutes}m"
            : $"{(int)d.TotalDays}d {d.Hours}h";
    }
}
