using System.Net;
using ResilientQueue.Recovery;

namespace CrawlPipeline.Pipeline;

/// <summary>
/// The library's default decisions (retry Transient with the backoff, pause on RateLimited without spending an
/// attempt, dead-letter Validation at once, stop the worker on Auth), plus one of the crawler's own: a 404 is a dead
/// link, not a failure worth retrying, so the job is skipped (the worker logs it, event 2009).
/// </summary>
public sealed class CrawlRecoveryStrategy(BackoffPolicy backoff) : IRecoveryStrategy
{
    private readonly DefaultRecoveryStrategy _default = new(backoff);

    /// <inheritdoc />
    public RecoveryDecision Decide(in RecoveryArguments arguments) =>
        arguments.Exception is HttpRequestException { StatusCode: HttpStatusCode.NotFound }
            ? RecoveryDecision.Skip("404 Not Found: a dead link")
            : _default.Decide(arguments);
}
