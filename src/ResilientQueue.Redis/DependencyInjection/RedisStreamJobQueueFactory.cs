using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ResilientQueue.DependencyInjection;
using ResilientQueue.Redis.Connections;
using ResilientQueue.Redis.Streams;

namespace ResilientQueue.Redis.DependencyInjection;

/// <summary>
/// Creates <see cref="RedisStreamJobQueue"/>s on the process's one multiplexer (the app's registered one, or one this
/// factory opens from the configuration string and closes when disposed), each reading as the configured group.
/// </summary>
internal sealed class RedisStreamJobQueueFactory : IJobQueueFactory, IDisposable, IAsyncDisposable
{
    private readonly IServiceProvider _services;
    private readonly RedisStreamsRegistration _registration;
    private readonly RedisStreamOptions _stream;
    private readonly ILoggerFactory _loggers;
    private readonly Lazy<RedisConnection> _connection;

    public RedisStreamJobQueueFactory(IServiceProvider services, RedisStreamsRegistration registration, IOptions<RedisStreamOptions> stream)
    {
        _services = services;
        _registration = registration;
        _stream = stream.Value;
        _loggers = (ILoggerFactory?)services.GetService(typeof(ILoggerFactory)) ?? NullLoggerFactory.Instance;
        _connection = new Lazy<RedisConnection>(
            () => RedisConnectionSource.Connect(_services, _loggers, _registration.Configuration, "UseRedisStreams"),
            LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public IJobQueue Create(string queueName, JobQueueOptions options) =>
        new RedisStreamJobQueue(_connection.Value, disposesConnection: false, queueName, options, _stream, (TimeProvider?)_services.GetService(typeof(TimeProvider)), _loggers.CreateLogger<RedisStreamJobQueue>(), _registration.Database);

    public void Dispose()
    {
        if (_connection.IsValueCreated)
        {
            _connection.Value.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection.IsValueCreated)
        {
            await _connection.Value.DisposeAsync().ConfigureAwait(false);
        }
    }
}

/// <summary>What <c>UseRedisStreams</c> was given besides the stream options.</summary>
/// <param name="Configuration">The configuration string, when the app registers no multiplexer.</param>
/// <param name="Database">The database; -1 for the multiplexer's default.</param>
internal sealed record RedisStreamsRegistration(string? Configuration, int Database);

/// <summary>Validates the stream options at start-up, reporting every problem.</summary>
internal sealed class RedisStreamOptionsValidator : IValidateOptions<RedisStreamOptions>
{
    public ValidateOptionsResult Validate(string? name, RedisStreamOptions options)
    {
        List<string> failures = options.Problems().Select(p => $"{p.Option}: {p.Message}").ToList();
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
