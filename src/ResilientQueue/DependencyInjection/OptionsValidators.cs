using Microsoft.Extensions.Options;
using ResilientQueue.Processing;
using ResilientQueue.Reaping;

namespace ResilientQueue.DependencyInjection;

/// <summary>Validates every named <see cref="JobQueueOptions"/> when it is first used (at start-up for the workers' queues).</summary>
internal sealed class JobQueueOptionsValidator : IValidateOptions<JobQueueOptions>
{
    public ValidateOptionsResult Validate(string? name, JobQueueOptions options)
    {
        try
        {
            options.Validate();
            return ValidateOptionsResult.Success;
        }
        catch (InvalidOptionsException ex)
        {
            return ValidateOptionsResult.Fail($"Queue '{name}': {ex.Message}");
        }
    }
}

/// <summary>Validates every worker's <see cref="JobWorkerOptions"/> at start-up.</summary>
internal sealed class JobWorkerOptionsValidator : IValidateOptions<JobWorkerOptions>
{
    public ValidateOptionsResult Validate(string? name, JobWorkerOptions options)
    {
        IReadOnlyList<string> problems = options.Validate();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems.Select(p => $"Worker of queue '{name}': {p}"));
    }
}

/// <summary>Validates the reaper's options at start-up.</summary>
internal sealed class StaleJobReaperOptionsValidator : IValidateOptions<StaleJobReaperOptions>
{
    public ValidateOptionsResult Validate(string? name, StaleJobReaperOptions options)
    {
        IReadOnlyList<string> problems = options.Validate();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
