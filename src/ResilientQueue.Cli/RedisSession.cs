using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using ResilientQueue.DeadLetter;
using ResilientQueue.Redis;
using StackExchange.Redis;

namespace ResilientQueue.Cli;

/// <summary>
/// One connection to Redis for one command: connects with a short timeout, tells "unreachable" (and why) from
/// "credentials rejected", and lists and opens queues through <see cref="RedisJobQueues"/> (whatever backend of the
/// Redis package stores each). The queues it opens are disposed with it. Never shows the password.
/// </summary>
internal sealed partial class RedisSession : IAsyncDisposable
{
    private const int ShortConnectTimeoutMs = 3000;
    private const int SyncTimeoutMs = 10_000;

    // After a failed connect, how long the TCP probe that names the cause (refused, no answer) may take.
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(1);

    // resq does not know the JobQueueOptions of the application, so it uses the widest bounds: a reap it runs never
    // trims dead-letter entries the application would keep, and requeue/enqueue do not enforce a capacity.
    private static readonly JobQueueOptions QueueOptions = new()
    {
        Capacity = long.MaxValue,
        DeadLetter = new DeadLetterOptions { MaxEntries = 10_000_000, MaxAge = TimeSpan.FromDays(365) },
    };

    private readonly ConnectionMultiplexer _connection;
    private readonly string? _password;
    private readonly string? _user;
    private readonly TimeProvider _time;
    private readonly List<IJobQueue> _queues = [];

    private RedisSession(ConnectionMultiplexer connection, string endpoints, string? password, string? user, int timeoutMs, TimeProvider time)
    {
        _user = user;
        _time = time;
        _connection = connection;
        Endpoints = endpoints;
        TimeoutMs = timeoutMs;
        _password = password;
    }

    /// <summary>The endpoints, as <c>host:port, …</c>, never with the password.</summary>
    public string Endpoints { get; }

    /// <summary>How long a command may wait for Redis's answer (the client's <c>asyncTimeout</c>), in milliseconds.</summary>
    public int TimeoutMs { get; }

    /// <summary>
    /// Connects. Unreachable servers and rejected credentials end in a <see cref="CliException"/> whose message names
    /// the endpoints and the cause, with the client's exception as its inner exception and its connection log as
    /// <see cref="CliException.Details"/> (both shown with <c>RESQ_DEBUG=1</c>).
    /// </summary>
    public static async Task<RedisSession> ConnectAsync(string configuration, TimeProvider time)
    {
        string? password = PasswordValue().Match(configuration) is { Success: true } m ? m.Groups[1].Value : null;
        ConfigurationOptions options;
        try
        {
            options = ConfigurationOptions.Parse(configuration);
        }
        catch (ArgumentException ex)
        {
            throw CliException.Usage($"invalid Redis configuration '{Redact(configuration)}': {Scrub(ex.Message, password)}", ex);
        }

        password = options.Password ?? password;
        options.SetDefaultPorts();
        if (options.EndPoints.Count == 0)
        {
            throw CliException.Usage($"the Redis configuration '{Redact(configuration)}' names no endpoint (e.g. localhost:6379)");
        }

        string endpoints = string.Join(", ", options.EndPoints.Select(Format));
        options.AbortOnConnectFail = false;
        if (!configuration.Contains("connectTimeout", StringComparison.OrdinalIgnoreCase))
        {
            options.ConnectTimeout = ShortConnectTimeoutMs;
        }

        if (!configuration.Contains("connectRetry", StringComparison.OrdinalIgnoreCase))
        {
            options.ConnectRetry = 1;
        }

        if (!configuration.Contains("syncTimeout", StringComparison.OrdinalIgnoreCase))
        {
            options.SyncTimeout = SyncTimeoutMs;
        }

        options.ClientName ??= "resq";

        // The connection log tells an authentication failure from an unreachable server; it is shown only with RESQ_DEBUG=1.
        using var log = new StringWriter(CultureInfo.InvariantCulture);
        ConnectionMultiplexer connection = await ConnectionMultiplexer.ConnectAsync(options, log).ConfigureAwait(false);

        var session = new RedisSession(connection, endpoints, password, options.User, options.AsyncTimeout, time);
        try
        {
            if (!connection.IsConnected)
            {
                throw IsAuthFailure(log.ToString())
                    ? session.CredentialsRejected(null, log.ToString())
                    : await session.UnreachableAsync(options.EndPoints, null, log.ToString()).ConfigureAwait(false);
            }

            await connection.GetDatabase().PingAsync().ConfigureAwait(false);

            // The client goes on as the default user when the server refuses an ACL user's password but the
            // default user needs none: resq must not act as someone else than the operator asked for.
            if (options.User is { } user && !await IsAuthenticatedAsAsync(connection, user).ConfigureAwait(false))
            {
                throw session.CredentialsRejected(null, log.ToString());
            }

            return session;
        }
        catch (RedisServerException ex) when (IsAuthFailure(ex.Message))
        {
            await session.DisposeAsync().ConfigureAwait(false);
            throw session.CredentialsRejected(ex, log.ToString());
        }
        catch (RedisTimeoutException ex)
        {
            await session.DisposeAsync().ConfigureAwait(false);
            throw CliException.Error(TimedOut(ex, endpoints, options.AsyncTimeout), ex, log.ToString());
        }
        catch (RedisConnectionException ex)
        {
            await session.DisposeAsync().ConfigureAwait(false);
            throw IsAuthFailure(log.ToString())
                ? session.CredentialsRejected(ex, log.ToString())
                : await session.UnreachableAsync(options.EndPoints, ex, log.ToString()).ConfigureAwait(false);
        }
        catch
        {
            await session.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Whether every connected server knows the connection as <paramref name="user"/> (<c>ACL WHOAMI</c>; a server that cannot say is trusted).</summary>
    private static async Task<bool> IsAuthenticatedAsAsync(ConnectionMultiplexer connection, string user)
    {
        foreach (IServer server in connection.GetServers().Where(s => s.IsConnected))
        {
            try
            {
                if ((string?)await server.ExecuteAsync("ACL", "WHOAMI").ConfigureAwait(false) != user)
                {
                    return false;
                }
            }
            catch (RedisServerException)
            {
                // NOPERM or no ACL (Redis before 6): nothing to compare with.
            }
        }

        return true;
    }

    /// <summary><c>password=…</c> masked, for any configuration echoed back.</summary>
    public static string Redact(string configuration) => PasswordValue().Replace(configuration, "password=*****");

    /// <summary>The text with the password, if any, masked.</summary>
    public string Scrub(string text) => Scrub(text, _password);

    /// <summary>Names of every queue on every primary, sorted.</summary>
    public Task<IReadOnlyList<string>> ListQueuesAsync() => RedisJobQueues.ListAsync(_connection);

    /// <summary>The consumer group (<c>--group</c>) to act as on a queue of the stream backend; <see langword="null"/> for its only group.</summary>
    public string? Group { get; set; }

    /// <summary>The consumer groups of a stream queue, sorted; none for a list queue.</summary>
    public Task<IReadOnlyList<string>> ListGroupsAsync(string name) => RedisJobQueues.ListGroupsAsync(_connection, name);

    /// <summary>
    /// Opens an existing queue with the backend that stores it (a stream queue as <see cref="Group"/>); a queue that does
    /// not exist is reported with the known queues, so a typo never creates one.
    /// </summary>
    public async Task<IJobQueue> OpenQueueAsync(string name)
    {
        ThrowIfInvalidName(name);
        if (!await QueueExistsAsync(name).ConfigureAwait(false))
        {
            IReadOnlyList<string> known = await ListQueuesAsync().ConfigureAwait(false);
            string list = known.Count == 0
                ? "none"
                : string.Join(", ", known.Take(20)) + (known.Count > 20 ? $", … ({known.Count - 20} more; see 'resq queues')" : string.Empty);
            throw CliException.Error($"queue '{name}' not found; known queues: {list}");
        }

        return Keep(await OpenAsync(name, Group).ConfigureAwait(false));
    }

    /// <summary>Opens a queue whether or not it exists yet (enqueue creates it: a new one is a list queue); disposed with the session.</summary>
    public async Task<IJobQueue> CreateQueueAsync(string name)
    {
        ThrowIfInvalidName(name);

        // An enqueue reaches every group of a stream queue, so any group serves when none is named.
        string? group = Group ?? (await ListGroupsAsync(name).ConfigureAwait(false)).FirstOrDefault();
        return Keep(await OpenAsync(name, group).ConfigureAwait(false));
    }

    /// <summary>Opens a queue (a stream queue as <paramref name="group"/>), runs <paramref name="use"/> on it and disposes it at once (for a pass over many queues).</summary>
    public async Task<T> UseQueueAsync<T>(string name, string? group, Func<IJobQueue, Task<T>> use)
    {
        ThrowIfInvalidName(name);
        IJobQueue queue = await OpenAsync(name, group).ConfigureAwait(false);
        try
        {
            return await use(queue).ConfigureAwait(false);
        }
        finally
        {
            await DisposeAsync(queue).ConfigureAwait(false);
        }
    }

    public Task<bool> QueueExistsAsync(string name) => RedisJobQueues.ExistsAsync(_connection, name);

    private async Task<IJobQueue> OpenAsync(string name, string? group)
    {
        try
        {
            return await RedisJobQueues.OpenAsync(_connection, name, group, QueueOptions, _time).ConfigureAwait(false);
        }
        catch (InvalidOperationException ex)
        {
            // A stream queue read by several groups: the command must say which one it is about.
            throw CliException.Usage($"{ex.Message.TrimEnd('.')} with --group", ex);
        }
    }

    private IJobQueue Keep(IJobQueue queue)
    {
        _queues.Add(queue);
        return queue;
    }

    /// <summary>"Redis at a:1 did not answer EVALSHA within 10000 ms (…)": the command from the client's message, the timeout the session set.</summary>
    public static string TimedOut(RedisTimeoutException timeout, string? endpoints, int? timeoutMs) =>
        $"Redis{(endpoints is null ? string.Empty : " at " + endpoints)} did not answer " +
        $"{(CommandName().Match(timeout.Message) is { Success: true } c ? c.Groups[1].Value + " " : string.Empty)}" +
        $"within {(timeoutMs is null ? "the timeout" : timeoutMs.Value.ToString(CultureInfo.InvariantCulture) + " ms")} " +
        "(the server is busy or blocked; if it is only slow, raise asyncTimeout= in --redis)";

    public CliException CredentialsRejected(Exception? cause, string? log = null) => CliException.Error(
        $"Redis rejected the credentials{(_user is null ? string.Empty : $" of user '{_user}'")} (at {Endpoints}{(_password is null ? "; no password was given" : string.Empty)}); check the password/user in --redis or RESQ_REDIS",
        cause,
        log);

    /// <summary>
    /// Disposes the queues the command opened, then closes the connection at once: nothing is pending when a command
    /// ends (a graceful close waits for QUIT replies, up to the sync timeout).
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        foreach (IJobQueue queue in _queues)
        {
            await DisposeAsync(queue).ConfigureAwait(false);
        }

        _queues.Clear();
        await _connection.CloseAsync(allowCommandsToComplete: false).ConfigureAwait(false);
        await _connection.DisposeAsync().ConfigureAwait(false);
    }

    // IJobQueue does not promise disposal; the backends of the Redis package are IAsyncDisposable.
    private static async ValueTask DisposeAsync(IJobQueue queue)
    {
        if (queue is IAsyncDisposable asyncDisposable)
        {
            await asyncDisposable.DisposeAsync().ConfigureAwait(false);
        }
        else if (queue is IDisposable disposable)
        {
            disposable.Dispose();
        }
    }

    public static bool IsAuthFailure(string text) =>
        text.Contains("NOAUTH", StringComparison.Ordinal)
        || text.Contains("WRONGPASS", StringComparison.Ordinal)
        || text.Contains("invalid password", StringComparison.OrdinalIgnoreCase)
        || text.Contains("AuthenticationFailure", StringComparison.Ordinal);

    private static void ThrowIfInvalidName(string name)
    {
        if (!QueueNames.IsValid(name))
        {
            throw CliException.Usage($"invalid queue name '{name}': 1 to {QueueNames.MaxLength} characters, each an ASCII letter, digit or one of - _ . : #");
        }
    }

    /// <summary>
    /// "cannot reach Redis at a:1 (connection refused), b:2 (host not found)": the client only says UnableToConnect, so
    /// each endpoint is looked up and probed once over TCP to name the cause; the probe's error becomes the inner
    /// exception when the client gave none.
    /// </summary>
    private async Task<CliException> UnreachableAsync(EndPointCollection endPoints, Exception? cause, string log)
    {
        (string Text, Exception? Error)[] probes = await Task.WhenAll(endPoints.Select(ProbeAsync)).ConfigureAwait(false);
        string reasons = string.Join(", ", endPoints.Select((e, i) => $"{Format(e)} ({probes[i].Text})"));
        Exception? inner = cause ?? probes.Select(p => p.Error).FirstOrDefault(e => e is not null);
        return CliException.Error($"cannot reach Redis at {reasons}", inner, log);
    }

    private static async Task<(string Text, Exception? Error)> ProbeAsync(EndPoint endPoint)
    {
        using var timeout = new CancellationTokenSource(ProbeTimeout);
        try
        {
            if (endPoint is DnsEndPoint dns && !IPAddress.TryParse(dns.Host, out _))
            {
                try
                {
                    await Dns.GetHostAddressesAsync(dns.Host, timeout.Token).ConfigureAwait(false);
                }
                catch (SocketException ex)
                {
                    return ($"host '{dns.Host}' not found", ex);
                }
            }

            using var socket = endPoint is UnixDomainSocketEndPoint
                ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
                : new Socket(SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(endPoint, timeout.Token).ConfigureAwait(false);
            return ("it accepts connections but did not complete the Redis handshake: check ssl= and that the port is Redis's", null);
        }
        catch (SocketException ex)
        {
            return (ex.SocketErrorCode switch
            {
                SocketError.ConnectionRefused => "connection refused",
                SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => "host not found",
                SocketError.TimedOut => $"no answer within {ProbeTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s",
                SocketError.NetworkUnreachable or SocketError.HostUnreachable => "network unreachable",
                _ => ex.SocketErrorCode.ToString(),
            }, ex);
        }
        catch (OperationCanceledException ex)
        {
            return ($"no answer within {ProbeTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s", ex);
        }
    }

    private static string Scrub(string text, string? password) =>
        Redact(string.IsNullOrEmpty(password) ? text : text.Replace(password, "*****", StringComparison.Ordinal));

    private static string Format(EndPoint endPoint) => endPoint switch
    {
        DnsEndPoint dns => $"{dns.Host}:{dns.Port.ToString(CultureInfo.InvariantCulture)}",
        _ => endPoint.ToString() ?? "?",
    };

    [GeneratedRegex("password=([^,]*)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex PasswordValue();

    // StackExchange.Redis names the command in its timeout message: "…, command=EVALSHA, next: …".
    [GeneratedRegex(@"command=([A-Za-z.]+)", RegexOptions.CultureInvariant)]
    private static partial Regex CommandName();
}
