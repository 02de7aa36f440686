namespace ResilientQueue.Errors;

/// <summary>What kind of failure an exception represents; the recovery strategy decides by it.</summary>
public enum ErrorCategory
{
    /// <summary>Not recognised; retried with backoff by default.</summary>
    Unknown = 0,

    /// <summary>Network errors, timeouts, Redis connection errors, HTTP 5xx: retried with backoff.</summary>
    Transient = 1,

    /// <summary>HTTP 429, or 503 with Retry-After: fetching pauses and the job is retried without spending an attempt.</summary>
    RateLimited = 2,

    /// <summary>HTTP 401/403: every job would fail the same way, so the worker stops and the job is kept.</summary>
    Auth = 3,

    /// <summary>Malformed payload, JSON/format/validation errors: a poison job, dead-lettered at once.</summary>
    Validation = 4,

    /// <summary>Database errors: retried with backoff.</summary>
    Database = 5,

    /// <summary>The job's lease ran out while it was active (its worker crashed or hung); set by the reaper.</summary>
    LeaseExpired = 6,
}
