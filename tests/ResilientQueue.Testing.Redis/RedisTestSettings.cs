using System.Reflection;
using StackExchange.Redis;

namespace ResilientQueue.Testing.Redis;

/// <summary>Whether the Redis test fixture may, must or must not run its server in a Docker container.</summary>
public enum RedisDockerMode
{
    /// <summary>Use Testcontainers when a Docker engine answers and the container starts; otherwise a local redis-server process (said in the log).</summary>
    Auto,

    /// <summary>Use Testcontainers; fail when Docker is not there or the container does not start.</summary>
    On,

    /// <summary>Never use Docker: a local redis-server process.</summary>
    Off,
}

/// <summary>The environment switches of the Redis tests, read once per process.</summary>
public static class RedisTestSettings
{
    /// <summary>Environment variable choosing the protocol of every connection the fixtures open: <c>resp2</c> or <c>resp3</c> (unset: the client's default).</summary>
    public const string ProtocolVariable = "RESILIENTQUEUE_REDIS_PROTOCOL";

    /// <summary>Environment variable choosing the container path: <c>auto</c> (default), <c>on</c> (required) or <c>off</c>.</summary>
    public const string DockerVariable = "RESILIENTQUEUE_REDIS_DOCKER";

    /// <summary>Environment variable naming the Redis image the container path runs (default <see cref="DefaultImage"/>).</summary>
    public const string ImageVariable = "RESILIENTQUEUE_REDIS_IMAGE";

    /// <summary>The image the container path runs unless <see cref="ImageVariable"/> names another: the oldest Redis line the library supports.</summary>
    public const string DefaultImage = "redis:7.0";

    /// <summary>
    /// The protocol the switch asks for, or <see langword="null"/> when it is unset (the client's default: RESP2 on
    /// StackExchange.Redis 2.x, RESP3 on 3.x).
    /// </summary>
    /// <exception cref="InvalidOperationException">The variable holds something else than <c>resp2</c>/<c>resp3</c> (or <c>2</c>/<c>3</c>).</exception>
    public static RedisProtocol? Protocol => Environment.GetEnvironmentVariable(ProtocolVariable)?.Trim().ToUpperInvariant() switch
    {
        null or "" => null,
        "RESP2" or "2" => RedisProtocol.Resp2,
        "RESP3" or "3" => RedisProtocol.Resp3,
        var other => throw new InvalidOperationException($"{ProtocolVariable}='{other}' is neither resp2 nor resp3."),
    };

    /// <summary>The protocol every fixture connection negotiates: the switch, else the client line's default.</summary>
    public static RedisProtocol ExpectedProtocol => Protocol ?? (ClientVersion.Major >= 3 ? RedisProtocol.Resp3 : RedisProtocol.Resp2);

    /// <summary>The container switch (<see cref="DockerVariable"/>).</summary>
    /// <exception cref="InvalidOperationException">The variable holds something else than auto/on/off.</exception>
    public static RedisDockerMode DockerMode => Environment.GetEnvironmentVariable(DockerVariable)?.Trim().ToUpperInvariant() switch
    {
        null or "" or "AUTO" => RedisDockerMode.Auto,
        "ON" or "TRUE" or "1" or "REQUIRED" => RedisDockerMode.On,
        "OFF" or "FALSE" or "0" => RedisDockerMode.Off,
        var other => throw new InvalidOperationException($"{DockerVariable}='{other}' is none of auto, on, off."),
    };

    /// <summary>The Redis image of the container path.</summary>
    public static string Image => Environment.GetEnvironmentVariable(ImageVariable) is { Length: > 0 } image ? image.Trim() : DefaultImage;

    /// <summary>The version of the StackExchange.Redis assembly the tests run with (e.g. 2.13.23 or 3.4.35).</summary>
    public static Version ClientVersion { get; } = typeof(ConnectionMultiplexer).Assembly.GetName().Version ?? new Version(0, 0);

    /// <summary>The StackExchange.Redis package version the tests run with, as its informational version says (e.g. <c>2.13.23</c>).</summary>
    public static string ClientPackageVersion { get; } =
        typeof(ConnectionMultiplexer).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? ClientVersion.ToString();

    /// <summary>Sets <see cref="ConfigurationOptions.Protocol"/> when the switch asks for one; returns <paramref name="options"/>.</summary>
    public static ConfigurationOptions ApplyProtocol(ConfigurationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (Protocol is { } protocol)
        {
            options.Protocol = protocol;
        }

        return options;
    }
}
