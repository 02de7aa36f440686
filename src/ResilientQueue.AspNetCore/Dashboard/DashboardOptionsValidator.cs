using Microsoft.Extensions.Options;

namespace ResilientQueue.AspNetCore.Dashboard;

/// <summary>Validates the dashboard's options at start-up, every problem in the shape <c>Option: what is wrong</c>.</summary>
internal sealed class DashboardOptionsValidator : IValidateOptions<DashboardOptions>
{
    public ValidateOptionsResult Validate(string? name, DashboardOptions options)
    {
        List<string> failures = options.Problems().Select(p => $"{p.Option}: {p.Message}").ToList();
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>The options as validated at start-up, copied once: later changes to the configured instance do not reach the dashboard.</summary>
internal sealed class DashboardOptionsCopy(IOptions<DashboardOptions> options)
{
    public DashboardOptions Value { get; } = options.Value.Copy();
}
