using System.Globalization;
using ResilientQueue.Backpressure;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace LlmExtraction.Monitoring;

/// <summary>
/// The live console view: a Spectre.Console table redrawn in place on a terminal, or, when the output is redirected
/// (or <c>--plain</c>), one plain line per sample and one per notable event.
/// </summary>
internal sealed class PipelineView(IAnsiConsole console, bool live, TextWriter plain)
{
    private int _eventsPrinted;

    public bool IsLive => live;

    /// <summary>Runs <paramref name="loop"/>, giving it a callback that shows a snapshot.</summary>
    public async Task RunAsync(Func<Action<Snapshot>, Task> loop)
    {
        if (!live)
        {
            await loop(PrintLine);
            return;
        }

        await console.Live(new Text("starting…")).AutoClear(false).Overflow(VerticalOverflow.Ellipsis)
            .StartAsync(async context => await loop(s =>
            {
                context.UpdateTarget(Render(s));
                context.Refresh();
            }));
    }

    /// <summary>Prints the events noted since the last call (plain mode; the live view shows the last few itself).</summary>
    public void PrintEvents(IReadOnlyCollection<string> events)
    {
        foreach (string e in events.Skip(_eventsPrinted))
        {
            if (live)
            {
                console.MarkupLineInterpolated($"[grey]{e}[/]");
            }
            else
            {
                plain.WriteLine($"  {e}");
            }
        }

        _eventsPrinted = events.Count;
    }

    private void PrintLine(Snapshot s)
    {
        plain.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"t={s.At.TotalSeconds,5:0.0}s {s.Phase,-8} ready={s.Queue.Ready,3} delayed={s.Queue.Delayed,2} active={s.Queue.Active,2} done={s.Completed,4} dead={s.Queue.Dead} | " +
            $"limit={s.Limit,2} in-flight={s.InFlight,2} latency={s.LatencyMs,4:0}ms{(s.Workers > 1 ? $" workers={s.Workers}" : "")} C={s.Capacity,2} | backpressure={s.Backpressure.Level} (waits {s.BackpressureWaits}) | " +
            $"retries={s.Retried} 429={s.TooManyRequests} 503={s.Unavailable} malformed={s.Malformed} | errors: {Join(s.Errors)}"));
    }

    private static string Join(IReadOnlyDictionary<string, long> counts) =>
        counts.Count == 0 ? "none" : string.Join(", ", counts.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key} {p.Value}")));

    private static IRenderable Render(Snapshot s)
    {
        var grid = new Grid().AddColumn(new GridColumn().NoWrap().PadRight(2)).AddColumn();
        grid.AddRow(new Markup("[bold]queue[/]"), new Markup(string.Create(CultureInfo.InvariantCulture,
            $"ready [bold]{s.Queue.Ready}[/]  delayed {s.Queue.Delayed}  active [bold]{s.Queue.Active}[/]  done [green]{s.Completed}[/]  dead [red]{s.Queue.Dead}[/]  (depth {s.Backpressure.Depth} of {s.Backpressure.Capacity})")));
        grid.AddRow(new Markup("[bold]backpressure[/]"), new Markup(string.Create(CultureInfo.InvariantCulture,
            $"{Level(s.Backpressure.Level)}  {Bar(s.Backpressure.Utilisation, 30)} {s.Backpressure.Utilisation:P0}  producer waited {s.BackpressureWaits} times")));
        grid.AddRow(new Markup("[bold]producer[/]"), new Markup(string.Create(CultureInfo.InvariantCulture,
            $"documents {s.DocumentsDone}/{s.Documents}  answers [green]{s.Answered}[/]/{s.Chunks}  RequestTimeout [yellow]{s.TimedOut}[/]  dead-lettered [red]{s.Failed}[/]")));
        grid.AddRow(new Markup("[bold]worker[/]"), new Markup(string.Create(CultureInfo.InvariantCulture,
            $"limit [bold]{s.Limit}[/] {Bar(s.Limit / 50.0, 25)}  in flight {s.InFlight}  latency {s.LatencyMs:0} ms  retries {s.Retried}{(s.Workers > 1 ? $"  ({s.Workers} processes)" : "")}")));
        grid.AddRow(new Markup("[bold]retries by category[/]"), new Text(Join(s.RetriedByCategory)));
        grid.AddRow(new Markup("[bold]errors by category[/]"), new Text(Join(s.Errors)));
        grid.AddRow(new Markup("[bold]fake model[/]"), new Markup(string.Create(CultureInfo.InvariantCulture,
            $"hidden capacity C = [bold]{s.Capacity}[/]  serving {s.ModelRunning}  waiting {s.ModelWaiting}  429 {s.TooManyRequests}  503 {s.Unavailable}  malformed {s.Malformed}  hung {s.Stuck}")));
        grid.AddRow(new Markup("[bold]recent[/]"), new Rows(s.Recent.Count == 0 ? [new Text("-")] : s.Recent.Select(r => (IRenderable)new Text(r.Length > 150 ? r[..150] + "…" : r))));
        return new Panel(grid)
            .Header(string.Create(CultureInfo.InvariantCulture, $" LLM extraction: {s.Phase}, {s.At.TotalSeconds:0.0} s, {Markup.Escape(s.Backend)} "))
            .Border(BoxBorder.Rounded);
    }

    private static string Level(BackpressureLevel level) => level switch
    {
        BackpressureLevel.Normal => "[green]Normal[/]",
        BackpressureLevel.Elevated => "[yellow]Elevated[/]",
        _ => "[red]Saturated[/]",
    };

    private static string Bar(double fraction, int width)
    {
        int full = (int)Math.Round(Math.Clamp(fraction, 0, 1) * width);
        return "[blue]" + new string('█', full) + "[/][grey]" + new string('░', width - full) + "[/]";
    }
}
