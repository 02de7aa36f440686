using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace ResilientQueue.AspNetCore.Pages;

/// <summary>What an action asks for, read alike from the confirmation page's query and from the action's form.</summary>
internal sealed record ActionRequest(string Action, IReadOnlyList<string> Ids, Filter Filter)
{
    public static readonly string[] Actions = ["requeue", "purge", "requeue-all", "purge-all", "pause", "resume", "reap"];

    public static bool TryRead(string? action, StringValues ids, string? category, string? olderThan, int maxIds, out ActionRequest request, out string problem)
    {
        request = null!;
        problem = string.Empty;
        if (action is null || !Actions.Contains(action, StringComparer.Ordinal))
        {
            problem = "Unknown action. One of: " + string.Join(", ", Actions) + ".";
            return false;
        }

        string[] list = [.. ids.Where(i => !string.IsNullOrWhiteSpace(i)).Select(i => i!.Trim()).Distinct(StringComparer.Ordinal)];
        if (action is "requeue" or "purge" && (list.Length == 0 || list.Length > maxIds || list.Any(i => i.Length > 256)))
        {
            problem = $"Select from 1 to {maxIds} jobs.";
            return false;
        }

        if (!Filter.TryRead(category, olderThan, out Filter filter, out string? filterProblem))
        {
            problem = filterProblem!;
            return false;
        }

        request = new ActionRequest(action, action is "requeue" or "purge" ? list : [], filter);
        return true;
    }

    public string Describe(string queue) => Action switch
    {
        "requeue" => Ids.Count == 1 ? $"Requeue job {Ids[0]} of queue '{queue}': it leaves the dead-letter store and is ready again, keeping its attempt count (one more attempt)." : $"Requeue {Ids.Count} selected jobs of queue '{queue}', each exactly once, keeping their attempt counts.",
        "purge" => Ids.Count == 1 ? $"Delete dead-lettered job {Ids[0]} of queue '{queue}' for good." : $"Delete {Ids.Count} selected dead-lettered jobs of queue '{queue}' for good.",
        "requeue-all" => $"Requeue every dead letter of queue '{queue}'{FilterText} (newest first, each exactly once, keeping attempt counts).",
        "purge-all" => Filter.OlderThan is null ? $"Delete every dead letter of queue '{queue}' for good." : $"Delete every dead letter of queue '{queue}' dead-lettered at least {Filter.OlderThanText} ago, for good.",
        "pause" => $"Pause fetching from queue '{queue}': workers take no job until it is resumed; enqueues are still accepted.",
        "resume" => $"Resume fetching from queue '{queue}'.",
        _ => $"Take back the expired leases of queue '{queue}'{(Filter.OlderThan is null ? string.Empty : " that ran out at least " + Filter.OlderThanText + " ago")}: attempts left → ready, none left → dead-lettered.",
    };

    public bool IsDestructive => Action is "purge" or "purge-all";

    private string FilterText =>
        (Filter.Category is { } c ? $" of category {c}" : string.Empty) + (Filter.OlderThan is null ? string.Empty : $" dead-lettered at least {Filter.OlderThanText} ago");
}
