using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using ResilientQueue.DeadLetter;
using ResilientQueue.Redis.Lists;
using StackExchange.Redis;

namespace ResilientQueue.Cli;

/// <summary>
/// One connection to Redis for one command: connects with a short timeout, tells "unreachable" from "credentials
/// rejected", finds queues by their <c>{rq:&lt;queue&gt;}:meta</c> hash and opens them. Never shows the password.
/// </summary>
internal sealed partial class RedisSession : IDisposable
{
    private const string MetaPattern = "{rq:*}:meta";
    private const string MetaPrefix = "{rq:";
    private const string MetaSuffix = "}:meta";
    private const int ShortConnectTimeoutMs = 3000;
    private const int SyncTimeoutMs = 10_000;

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

    private RedisSession(ConnectionMultiplexer connection, string endpoints, string? password, string? user, TimeProvider time)
    {
        _user = user;
        _time = time;
        _connection = connection;
        Endpoints = endpoints;
        _password = password;
    }

    /// <summary>The endpoints, as <c>host:port, …</c>, never with the password.</summary>
    public string Endpoints { get; }

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
            throw CliException.Usage($"invalid Redis configuration '{Redact(configuration)}': {Scrub(ex.Message, password)}");
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

        // The connection log tells an authentication failure from an unreachable server; it is read, never shown.
        using var log = new StringWriter(CultureInfo.InvariantCulture);
        ConnectionMultiplexer connection = await ConnectionMultiplexer.ConnectAsync(options, log).ConfigureAwait(false);

        var session = new RedisSession(connection, endpoints, password, options.User, time);
        try
        {
            if (!connection.IsConnected)
            {
                throw IsAuthFailure(log.ToString()) ? session.CredentialsRejected() : session.Unreachable();
            }

            await connection.GetDatabase().PingAsync().ConfigureAwait(false);

            // The client goes on as the default user when the server refuses an ACL user's password but the
            // default user needs none: resq must not act as someone else than the operator asked for.
            if (options.User is { } user && !await IsAuthenticatedAsAsync(connection, user).ConfigureAwait(false))
            {
                session.Dispose();
                throw session.CredentialsRejected();
            }

            return session;
        }
        catch (RedisServerException ex) when (IsAuthFailure(ex.Message))
        {
            session.Dispose();
            throw session.CredentialsRejected();
        }
        catch (RedisConnectionException)
        {
            session.Dispose();
            throw IsAuthFailure(log.ToString()) ? session.CredentialsRejected() : session.Unreachable();
        }
        catch
        {
            session.Dispose();
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

    /// <summary>Names of every queue on every primary, sorted (SCAN, 1,000 keys a page).</summary>
    public async Task<IReadOnlyList<string>> DiscoverQueuesAsync()
    {
        var names = new SortedSet<string>(StringComparer.Ordinal);
        int database = _connection.GetDatabase().Database;
        foreach (EndPoint endPoint in _connection.GetEndPoints())
        {
            IServer server = _connection.GetServer(endPoint);
            if (!server.IsConnected || server.IsReplica)
            {
                continue;
            }

            await foreach (RedisKey key in server.KeysAsync(database, MetaPattern, pageSize: 1000).ConfigureAwait(false))
            {
                string text = key.ToString();
                string name = text.Length > MetaPrefix.Length + MetaSuffix.Length && text.StartsWith(MetaPrefix, StringComparison.Ordinal) && text.EndsWith(MetaSuffix, StringComparison.Ordinal)
                    ? text[MetaPrefix.Length..^MetaSuffix.Length]
                    : string.Empty;
                if (IsValidName(name))
                {
                    names.Add(name);
                }
            }
        }

        return [.. names];
    }

    /// <summary>Opens an existing queue; a queue with no meta hash is reported with the known queues.</summary>
    public async Task<RedisListJobQueue> OpenQueueAsync(string name)
    {
        RedisListJobQueue queue = CreateQueue(name);
        if (!await QueueExistsAsync(name).ConfigureAwait(false))
        {
            queue.Dispose();
            IReadOnlyList<string> known = await DiscoverQueuesAsync().ConfigureAwait(false);
            string list = known.Count == 0
                ? "none"
                : string.Join(", ", known.Take(20)) + (known.Count > 20 ? $", … ({known.Count - 20} more; see 'resq queues')" : string.Empty);
            throw CliException.Error($"queue '{name}' not found; known queues: {list}");
        }

        return queue;
    }

    /// <summary>Opens a queue whether or not it exists yet (enqueue creates it).</summary>
    public RedisListJobQueue CreateQueue(string name)
    {
        if (!IsValidName(name))
        {
            throw CliException.Usage($"invalid queue name '{name}': 1 to {QueueNames.MaxLength} characters, each an ASCII letter, digit or one of - _ . : #");
        }

        return new RedisListJobQueue(_connection, name, QueueOptions, _time);
    }

    public Task<bool> QueueExistsAsync(string name) => _connection.GetDatabase().KeyExistsAsync(MetaPrefix + name + MetaSuffix);

    public CliException Unreachable() => CliException.Error($"cannot reach Redis at {Endpoints}");

    public CliException CredentialsRejected() => CliException.Error($"Redis rejected the credentials{(_user is null ? string.Empty : $" of user '{_user}'")} (at {Endpoints}); check the password/user in --redis or RESQ_REDIS");

    /// <summary>Closes the connection at once: nothing is pending when a command ends (a graceful close waits for QUIT replies, up to the sync timeout).</summary>
    public void Dispose()
    {
        _connection.Close(allowCommandsToComplete: false);
        _connection.Dispose();
    }

    public static bool IsAuthFailure(string text) =>
        text.Contains("NOAUTH", StringComparison.Ordinal)
        || text.Contains("WRONGPASS", StringComparison.Ordinal)
        || text.Contains("invalid password", StringComparison.OrdinalIgnoreCase)
        || text.Contains("AuthenticationFailure", StringComparison.Ordinal);

    private static bool IsValidName(string name)
    {
        try
        {
            QueueNames.ThrowIfInvalid(name);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
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
}
