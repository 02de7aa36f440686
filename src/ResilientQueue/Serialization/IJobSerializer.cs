namespace ResilientQueue.Serialization;

/// <summary>Turns typed payloads into the bytes a job carries, and back.</summary>
public interface IJobSerializer
{
    /// <summary>Serializes a payload.</summary>
    /// <typeparam name="T">The payload's type.</typeparam>
    /// <param name="value">The payload.</param>
    /// <returns>The bytes.</returns>
    byte[] Serialize<T>(T value);

    /// <summary>Deserializes a payload. Throws a format exception (for JSON, <see cref="System.Text.Json.JsonException"/>) when the bytes are not a <typeparamref name="T"/>; such failures are classified as validation errors.</summary>
    /// <typeparam name="T">The payload's type.</typeparam>
    /// <param name="payload">The bytes.</param>
    /// <returns>The payload.</returns>
    T Deserialize<T>(ReadOnlyMemory<byte> payload);
}
