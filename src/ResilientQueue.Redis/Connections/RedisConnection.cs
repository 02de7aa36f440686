using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace ResilientQueue.Redis.Connections;

/// <summary>
/// The multiplexer a queue talks through: the app's (shared, never disposed here), or one this library opens itself
/// from a configuration string. An opened one connects in the background — <see cref="ConfigurationOptions.AbortOnConnectFail"/>
/// is off, so Redis being down (or refusing the credentials) when the app starts never fails its start — and it
/// reconnects on its own, trying about every half second, so consumption resumes soon after Redis answers again.
/// Also tells queues when a lost connection is restored, and turns "no connection" errors caused by rejected
/// credentials into an error that says so, naming the endpoint and the user, never the password.
/// </summary>
/// <remarks>
/// StackExchange.Redis goes on as the <c>default</c> user when the server refuses an ACL user's password but its
/// <c>default</c> user needs none (it only notes the WRONGPASS). An opened connection with a user therefore checks
/// <c>ACL WHOAMI</c> on every server after each connect: on a mismatch every operation fails with the refused-credentials
/// error (nothing runs as the wrong user), and a fresh connection is tried every <see cref="RetryRejectedInterval"/>
/// until the server accepts the credentials.
/// </remarks>
internal sealed partial class RedisConnection : IAsyncDisposable, IDisposable
{
    /// <summary>How often an opened connection tries again while Redis is unreachable (on the client's 1 s heartbeat).</summary>
    internal static readonly TimeSpan ReconnectInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>How often an opened connection whose credentials were refused is made again.</summary>
    internal static readonly TimeSpan RetryRejectedInterval = TimeSpan.FromSeconds(5);

    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _disposing = new();
    private readonly bool _owned;
    private readonly object _gate = new();
    private readonly ConfigurationOptions? _configuration;
    private Task<IConnectionMultiplexer>? _connecting;
    private IConnectionMultiplexer? _multiplexer;
    private RedisConnectionException? _rejection;
    private int _retryingRejected;
    private int _disposed;

    private RedisConnection(IConnectionMultiplexer? shared, ConfigurationOptions? configuration, string endpoints, string? user, ILogger logger, TimeProvider? time = null)
    {
        _logger = logger;
        _time = time ?? TimeProvider.System;
        _configuration = configuration;
        _owned = shared is null;
        Endpoints = endpoints;
        User = user;
        if (shared is not null)
        {
            Attach(shared);
        }
    }

    /// <summary>Raised (on a client thread) when a lost connection to a server is restored.</summary>
    public event Action? Restored;

    /// <summary>The servers, as <c>host:port, …</c> (never the password).</summary>
    public string Endpoints { get; }

    /// <summary>The ACL user of the connection, or <see langword="null"/> for the default user.</summary>
    public string? User { get; }

    /// <summary>The multiplexer once there is one (at once for a shared one; after the first connect attempt for an opened one).</summary>
    public IConnectionMultiplexer? Multiplexer => Volatile.Read(ref _multiplexer);

    /// <summary>The multiplexer when operations may use it now: there is one and its credentials were not refused.</summary>
    public IConnectionMultiplexer? Ready => Volatile.Read(ref _rejection) is null ? Volatile.Read(ref _multiplexer) : null;

    /// <summary>Wraps the app's multiplexer; disposing the wrapper leaves the multiplexer open.</summary>
    public static RedisConnection Share(IConnectionMultiplexer multiplexer, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(multiplexer);
        ConfigurationOptions? options = TryParse(multiplexer.Configuration);
        return new RedisConnection(multiplexer, null, options is null ? string.Join(", ", multiplexer.GetEndPoints().Select(Format)) : Describe(options), options?.User, logger ?? NullLogger.Instance);
    }

    /// <summary>
    /// Starts connecting in the background and returns at once. Only a configuration that cannot be parsed throws
    /// (an app misconfiguration, reported when the first queue is created).
    /// </summary>
    /// <exception cref="ArgumentException">The configuration string is invalid or names no endpoint; the message never shows the password.</exception>
    public static RedisConnection Open(string configuration, ILogger? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(configuration);
        ConfigurationOptions options;
        try
        {
            options = ConfigurationOptions.Parse(configuration);
        }
        catch (ArgumentException ex)
        {
            throw new ArgumentException($"The Redis configuration string is invalid: {ex.Message}", nameof(configuration), ex);
        }

        options.SetDefaultPorts();
        if (options.EndPoints.Count == 0)
        {
            throw new ArgumentException("The Redis configuration string names no endpoint (e.g. localhost:6379).", nameof(configuration));
        }

        // Never fail the app's start or stay broken: connect in the background and keep trying, every half second.
        options.AbortOnConnectFail = false;
        options.ReconnectRetryPolicy = new LinearRetry((int)ReconnectInterval.TotalMilliseconds);
        options.ClientName ??= "resilientqueue";
        var connection = new RedisConnection(null, options, Describe(options), options.User, logger ?? NullLogger.Instance, timeProvider);
        _ = connection.GetAsync().AsTask();
        return connection;
    }

    /// <summary>The multiplexer, connecting it first if needed (an opened connection's first attempt lasts at most its connect timeout).</summary>
    /// <exception cref="RedisConnectionException">The server refused the credentials of this (opened) connection.</exception>
    public ValueTask<IConnectionMultiplexer> GetAsync()
    {
        if (Volatile.Read(ref _rejection) is { } rejected)
        {
            throw rejected;
        }

        if (Volatile.Read(ref _multiplexer) is { } ready)
        {
            return new ValueTask<IConnectionMultiplexer>(ready);
        }

        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) == 1, this);
        lock (_gate)
        {
            // A connect that failed outright (not merely "unreachable", which AbortOnConnectFail=false turns into a
            // multiplexer that keeps trying) is started again by the next call, so the connection never stays broken.
            if (_connecting is null || _connecting.IsFaulted || _connecting.IsCanceled)
            {
                _connecting = ConnectAsync();
            }

            return new ValueTask<IConnectionMultiplexer>(_connecting);
        }
    }

    /// <summary>
    /// When <paramref name="exception"/> is a connection error caused by the server refusing the credentials, an
    /// exception that says exactly that (endpoint and user, never the password); otherwise <see langword="null"/>.
    /// </summary>
    public RedisConnectionException? CredentialsRejected(Exception exception) =>
        IsAuthenticationFailure(exception) ? Rejected(Endpoints, exception) : null;

    private RedisConnectionException Rejected(string endpoints, Exception? inner)
    {
        string user = User is null ? "the default user" : $"user '{User}'";

        // StackExchange.Redis 3.x marks this constructor obsolete in favour of one that 2.x (the package's floor) does
        // not have; it is kept in 3.x, so the one call site suppresses the warning rather than splitting the build.
#pragma warning disable CS0618
        return new RedisConnectionException(
            ConnectionFailureType.AuthenticationFailure,
            $"Redis at {endpoints} rejected the credentials of {user} (authentication failed: wrong user or password, or the ACL user is disabled). Check the user and password of the connection; the password is not shown.",
            inner);
#pragma warning restore CS0618
    }

    /// <summary>Whether the error, or one it wraps, is an authentication failure of the connection (WRONGPASS, NOAUTH).</summary>
    internal static bool IsAuthenticationFailure(Exception? exception)
    {
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            if (e is RedisConnectionException { FailureType: ConnectionFailureType.AuthenticationFailure }
                || e.Message.Contains("AuthenticationFailure", StringComparison.Ordinal)
                || e.Message.Contains("WRONGPASS", StringComparison.Ordinal)
                || e.Message.StartsWith("NOAUTH", StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _disposing.CancelAsync().ConfigureAwait(false);
        IConnectionMultiplexer? multiplexer = Detach();
        if (_owned && multiplexer is not null)
        {
            await multiplexer.CloseAsync(allowCommandsToComplete: false).ConfigureAwait(false);
            await multiplexer.DisposeAsync().ConfigureAwait(false);
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _disposing.Cancel();
        IConnectionMultiplexer? multiplexer = Detach();
        if (_owned && multiplexer is not null)
        {
            multiplexer.Close(allowCommandsToComplete: false);
            multiplexer.Dispose();
        }
    }

    private async Task<IConnectionMultiplexer> ConnectAsync()
    {
        // Off the caller's thread: the first attempt waits up to the connect timeout when the host is unreachable.
        await Task.Yield();
        ConnectionMultiplexer multiplexer = await ConnectionMultiplexer.ConnectAsync(_configuration!).ConfigureAwait(false);
        if (!multiplexer.IsConnected)
        {
            LogNotConnectedYet(_logger, Endpoints);
        }

        if (Volatile.Read(ref _disposed) == 1)
        {
            await multiplexer.DisposeAsync().ConfigureAwait(false);
            throw new ObjectDisposedException(nameof(RedisConnection));
        }

        Attach(multiplexer);
        await VerifyUserAsync(multiplexer).ConfigureAwait(false);
        return multiplexer;
    }

    /// <summary>
    /// For an opened connection with an ACL user: checks that every connected server knows it as that user (see the
    /// remarks); a mismatch makes every operation fail with the refused-credentials error and starts the retries.
    /// </summary>
    private async Task VerifyUserAsync(IConnectionMultiplexer multiplexer)
    {
        if (!_owned || User is null)
        {
            return;
        }

        string? refusedAt = await FindUserMismatchAsync(multiplexer).ConfigureAwait(false);
        if (refusedAt is null)
        {
            Volatile.Write(ref _rejection, null);
            return;
        }

        LogCredentialsRejected(_logger, refusedAt, User);
        Volatile.Write(ref _rejection, Rejected(refusedAt, null));
        if (Interlocked.Exchange(ref _retryingRejected, 1) == 0)
        {
            _ = RetryRejectedAsync();
        }
    }

    /// <summary>The endpoint of a connected server that does not know this connection as <see cref="User"/>, or <see langword="null"/>.</summary>
    private async Task<string?> FindUserMismatchAsync(IConnectionMultiplexer multiplexer)
    {
        foreach (IServer server in multiplexer.GetServers())
        {
            if (!server.IsConnected)
            {
                continue;
            }

            try
            {
                string? who = (string?)await server.ExecuteAsync("ACL", "WHOAMI").ConfigureAwait(false);
                if (!string.Equals(who, User, StringComparison.Ordinal))
                {
                    return Format(server.EndPoint);
                }
            }
            catch (RedisServerException)
            {
                // NOPERM (the user may not run ACL WHOAMI) or no ACL (Redis before 6): nothing to check against.
            }
            catch (Exception ex) when (ex is RedisConnectionException or RedisTimeoutException)
            {
                // The server went away meanwhile: it is checked again when the connection is restored.
            }
        }

        return null;
    }

    /// <summary>Makes a fresh connection every <see cref="RetryRejectedInterval"/> until the servers accept the credentials, then swaps it in.</summary>
    private async Task RetryRejectedAsync()
    {
        try
        {
            while (Volatile.Read(ref _rejection) is not null && !_disposing.IsCancellationRequested)
            {
                try
                {
                    await Task.Delay(RetryRejectedInterval, _time, _disposing.Token).ConfigureAwait(false);
                    await TryReplaceAsync().ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (_disposing.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex)
                {
                    LogRetryFailed(_logger, ex, Endpoints);
                }
            }
        }
        finally
        {
            Volatile.Write(ref _retryingRejected, 0);
        }
    }

    private async Task TryReplaceAsync()
    {
        ConnectionMultiplexer fresh = await ConnectionMultiplexer.ConnectAsync(_configuration!).ConfigureAwait(false);
        if (!fresh.IsConnected || await FindUserMismatchAsync(fresh).ConfigureAwait(false) is not null || _disposing.IsCancellationRequested)
        {
            await fresh.DisposeAsync().ConfigureAwait(false);
            return;
        }

        IConnectionMultiplexer? old = Detach();
        Attach(fresh);
        Volatile.Write(ref _rejection, null);
        LogCredentialsAccepted(_logger, Endpoints, User!);
        if (old is not null)
        {
            await old.CloseAsync(allowCommandsToComplete: false).ConfigureAwait(false);
            await old.DisposeAsync().ConfigureAwait(false);
        }

        Restored?.Invoke();
    }

    private void Attach(IConnectionMultiplexer multiplexer)
    {
        multiplexer.ConnectionRestored += OnRestored;
        if (_owned)
        {
            multiplexer.ConnectionFailed += OnFailed;
        }

        Volatile.Write(ref _multiplexer, multiplexer);
    }

    private IConnectionMultiplexer? Detach()
    {
        IConnectionMultiplexer? multiplexer = Interlocked.Exchange(ref _multiplexer, null);
        if (multiplexer is not null)
        {
            multiplexer.ConnectionRestored -= OnRestored;
            multiplexer.ConnectionFailed -= OnFailed;
        }

        return multiplexer;
    }

    private void OnRestored(object? sender, ConnectionFailedEventArgs e)
    {
        if (_owned && e.ConnectionType == ConnectionType.Interactive)
        {
            LogRestored(_logger, Format(e.EndPoint));
            if (sender is IConnectionMultiplexer multiplexer)
            {
                // A reconnect authenticates again: the server may have changed the user's password meanwhile.
                _ = VerifyUserAsync(multiplexer);
            }
        }

        Restored?.Invoke();
    }

    private void OnFailed(object? sender, ConnectionFailedEventArgs e)
    {
        if (e.ConnectionType != ConnectionType.Interactive)
        {
            return;
        }

        if (e.FailureType == ConnectionFailureType.AuthenticationFailure)
        {
            LogCredentialsRejected(_logger, Format(e.EndPoint), User ?? "default");
        }
        else
        {
            LogFailed(_logger, Format(e.EndPoint), e.FailureType, e.Exception?.GetType().Name ?? "none");
        }
    }

    private static ConfigurationOptions? TryParse(string configuration)
    {
        try
        {
            ConfigurationOptions options = ConfigurationOptions.Parse(configuration);
            options.SetDefaultPorts();
            return options.EndPoints.Count == 0 ? null : options;
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private static string Describe(ConfigurationOptions options) => string.Join(", ", options.EndPoints.Select(Format));

    internal static string Format(EndPoint? endPoint) => endPoint switch
    {
        DnsEndPoint dns => $"{dns.Host}:{dns.Port.ToString(CultureInfo.InvariantCulture)}",
        null => "?",
        _ => endPoint.ToString() ?? "?",
    };

    [LoggerMessage(EventId = 4001, Level = LogLevel.Warning, Message = "Redis at {Endpoints} is not reachable yet; the connection keeps trying in the background and the queues wait for it")]
    private static partial void LogNotConnectedYet(ILogger logger, string endpoints);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Warning, Message = "Connection to Redis at {Endpoint} failed ({FailureType}, {ExceptionType}); it keeps trying in the background")]
    private static partial void LogFailed(ILogger logger, string endpoint, ConnectionFailureType failureType, string exceptionType);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Error, Message = "Redis at {Endpoint} rejected the credentials of user {User}: check the user and password of the connection")]
    private static partial void LogCredentialsRejected(ILogger logger, string endpoint, string user);

    [LoggerMessage(EventId = 4005, Level = LogLevel.Information, Message = "Redis at {Endpoints} accepted the credentials of user {User} again")]
    private static partial void LogCredentialsAccepted(ILogger logger, string endpoints, string user);

    [LoggerMessage(EventId = 4006, Level = LogLevel.Error, Message = "Retrying the refused connection to Redis at {Endpoints} failed; trying again in 5 s")]
    private static partial void LogRetryFailed(ILogger logger, Exception exception, string endpoints);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Information, Message = "Connection to Redis at {Endpoint} restored")]
    private static partial void LogRestored(ILogger logger, string endpoint);
}
