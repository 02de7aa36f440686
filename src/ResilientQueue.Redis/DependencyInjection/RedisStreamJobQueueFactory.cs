using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ResilientQueue.Redis.Streams;

namespace ResilientQueue.Redis.DependencyInjection;

/// <summary>
/// Creates <see cref="RedisStreamJobQueue"/>s on the process's one multiplexer (the app's registered one, or one this
/// factory opens from the configuration string and closes when disposed), each reading as the configured group.
/// </summary>
internal sealed class RedisStreamJobQueueFactory(IServiceProvider services, RedisStreamsRegistration registration, IOptions<RedisStreamOptions> stream)
    : RedisJobQueueFactory(services, registration.Configuration, "UseRedisStreams")
{
    private readonly RedisStreamOptions _stream = stream.Value;
    private readonly int _database = registration.Database;

    public override IJobQueue Create(string queueName, JobQueueOptions options) =>
        new RedisStreamJobQueue(Connection, disposesConnection: false, queueName, options, _stream, TimeProvider, Loggers.CreateLogger<RedisStreamJobQueue>(), _database);
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
