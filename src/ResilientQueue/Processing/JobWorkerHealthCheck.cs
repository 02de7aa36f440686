using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ResilientQueue.Processing;

/// <summary>
/// The health of one queue's worker: Unhealthy when it stopped for an authentication failure, when its fetch loop
/// has not completed an attempt within the stall threshold (hung, e.g. after a reconnect), or when it is not running;
/// Degraded while the backend is failing and until it has answered once after the start; Healthy otherwise.
/// </summary>
internal sealed class JobWorkerHealthCheck(JobWorkerState state) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object>
        {
            ["queue"] = state.QueueName,
            ["lastFetchAttempt"] = state.LastFetchAttempt,
        };
        TimeSpan sinceFetch = state.Time.GetUtcNow() - state.LastFetchAttempt;
        HealthCheckResult result =
            state.AbortReason is { } abort ? HealthCheckResult.Unhealthy($"Worker of queue '{state.QueueName}' stopped: {abort}", data: data)
            : !state.Running ? HealthCheckResult.Unhealthy($"Worker of queue '{state.QueueName}' is not running.", data: data)
            : sinceFetch > state.StallThreshold ? HealthCheckResult.Unhealthy($"Worker of queue '{state.QueueName}' has not completed a fetch for {sinceFetch.TotalSeconds:0} s (threshold {state.StallThreshold.TotalSeconds:0} s): its fetch loop looks hung.", data: data)
            : state.LastBackendError is { } error ? HealthCheckResult.Degraded($"Worker of queue '{state.QueueName}' cannot reach its backend: {error}", data: data)
            : !state.ReachedBackend ? HealthCheckResult.Degraded($"Worker of queue '{state.QueueName}' has not reached its backend yet.", data: data)
            : HealthCheckResult.Healthy($"Worker of queue '{state.QueueName}' is fetching.", data);
        return Task.FromResult(result);
    }
}
