using Microsoft.Extensions.Options;
using ResilientQueue.Processing;
using ResilientQueue.Reaping;
using ResilientQueue.Telemetry;

namespace ResilientQueue.DependencyInjection;

/// <summary>Validates every named <see cref="JobQueueOptions"/> when it is first used (at start-up for the workers' queues).</summary>
internal sealed class JobQueueOptionsValidator : IValidateOptions<JobQueueOptions>
{
    public ValidateOptionsResult Validate(string? name, JobQueueOptions options)
    {
        return OptionsProblems.Result($"Queue '{name}': ", options.Problems());
    }
}

/// <summary>Validates every worker's <see cref="JobWorkerOptions"/> at start-up.</summary>
internal sealed class JobWorkerOptionsValidator : IValidateOptions<JobWorkerOptions>
{
    public ValidateOptionsResult Validate(string? name, JobWorkerOptions options)
    {
        return OptionsProblems.Result($"Worker of queue '{name}': ", options.Problems());
    }
}

/// <summary>Validates the reaper's options at start-up.</summary>
internal sealed class StaleJobReaperOptionsValidator : IValidateOptions<StaleJobReaperOptions>
{
    public ValidateOptionsResult Validate(string? name, StaleJobReaperOptions options)
    {
        return OptionsProblems.Result(string.Empty, options.Problems());
    }
}

/// <summary>Validates the metrics sampler's options at start-up.</summary>
internal sealed class QueueMetricsOptionsValidator : IValidateOptions<QueueMetricsOptions>
{
    public ValidateOptionsResult Validate(string? name, QueueMetricsOptions options)
    {
        return OptionsProblems.Result(string.Empty, options.Problems());
    }
}

/// <summary>Every problem of one options object, in the shape <c>InvalidOptionsException</c> reports one: <c>Option: what is wrong</c>.</summary>
internal static class OptionsProblems
{
    public static ValidateOptionsResult Result(string prefix, IEnumerable<(string Option, string Message)> problems)
    {
        List<string> failures = problems.Select(p => $"{prefix}{p.Option}: {p.Message}").ToList();
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
