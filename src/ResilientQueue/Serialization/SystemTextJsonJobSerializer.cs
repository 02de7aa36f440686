using System.Text.Json;

namespace ResilientQueue.Serialization;

/// <summary>The default <see cref="IJobSerializer"/>: UTF-8 JSON through System.Text.Json, with web defaults (camelCase, case-insensitive reads).</summary>
public sealed class SystemTextJsonJobSerializer : IJobSerializer
{
    private readonly JsonSerializerOptions _options;

    /// <summary>Creates a serializer.</summary>
    /// <param name="options">The JSON options; <see langword="null"/> for <see cref="JsonSerializerDefaults.Web"/>. They are copied.</param>
    public SystemTextJsonJobSerializer(JsonSerializerOptions? options = null)
    {
        _options = options is null ? new JsonSerializerOptions(JsonSerializerDefaults.Web) : new JsonSerializerOptions(options);
        _options.MakeReadOnly(populateMissingResolver: true);
    }

    /// <summary>The serializer with web defaults.</summary>
    public static SystemTextJsonJobSerializer Default { get; } = new();

    /// <inheritdoc />
    public byte[] Serialize<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, _options);

    /// <inheritdoc />
    /// <exception cref="JsonException">The bytes are not JSON for a <typeparamref name="T"/>, or are JSON <c>null</c>.</exception>
    public T Deserialize<T>(ReadOnlyMemory<byte> payload) =>
        JsonSerializer.Deserialize<T>(payload.Span, _options)
        ?? throw new JsonException($"The payload is JSON null, not a {typeof(T).Name}.");
}
