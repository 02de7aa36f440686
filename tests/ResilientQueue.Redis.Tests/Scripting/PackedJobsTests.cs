using System.Buffers.Binary;
using System.Text;
using FluentAssertions;
using ResilientQueue.Redis.Scripting;

namespace ResilientQueue.Redis.Tests.Scripting;

/// <summary>A fetch reply's packed jobs (<c>pack_lease</c> in <c>_common.lua</c>), read without a server.</summary>
public sealed class PackedJobsTests
{
    [Fact]
    public void NextJob_ReadsEachHeaderAndEnvelopeByTheirLengths_ThenEndAcceptsTheEmptyRest()
    {
        var packed = new PackedJobs(Pack(("1  5:10 a", "hello"), ("2  6:10 b", ""), ("3  7:10 c", "x:y")));

        Read(ref packed).Should().Be(("1  5:10 a", "hello"));
        Read(ref packed).Should().Be(("2  6:10 b", ""));
        Read(ref packed).Should().Be(("3  7:10 c", "x:y"));
        packed.IsEmpty.Should().BeTrue();
        packed.Invoking(p => p.End(3)).Should().NotThrow();
    }

    [Fact]
    public void NextJob_AnEnvelopeHoldingAnyByte_IsReadWhole()
    {
        byte[] envelope = [0, (byte)':', 0xff, (byte)'\n', (byte)' ', 0, 0, 0];
        var packed = new PackedJobs((byte[])[.. Lengths(1, envelope.Length), (byte)'h', .. envelope]);

        packed.NextJob(out _, out ReadOnlyMemory<byte> read);

        read.ToArray().Should().Equal(envelope);
    }

    [Fact]
    public void NextJob_ReturnsSlicesOfThePackedArray_WithoutCopying()
    {
        byte[] array = Pack(("h", "ab"));
        var packed = new PackedJobs(array);

        packed.NextJob(out _, out ReadOnlyMemory<byte> envelope);

        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(envelope, out ArraySegment<byte> segment).Should().BeTrue();
        segment.Array.Should().BeSameAs(array);
        segment.Offset.Should().Be(9);
    }

    [Fact]
    public void NextJob_FewerThanTheTwoLengths_IsAFormatExceptionSayingSo()
    {
        var packed = new PackedJobs(new byte[7]);

        packed.Invoking(p => p.NextJob(out _, out _)).Should().Throw<FormatException>().WithMessage("*7 bytes where the two 4-byte lengths*different versions*");
    }

    [Theory]
    [InlineData(3u, 0u, 2)]
    [InlineData(0u, 3u, 2)]
    [InlineData(uint.MaxValue, 1u, 100)]
    [InlineData(1u, uint.MaxValue, 100)]
    public void NextJob_LengthsPastTheEnd_IsAFormatExceptionNamingThem(uint header, uint envelope, int left)
    {
        var packed = new PackedJobs((byte[])[.. Lengths(header, envelope), .. new byte[left]]);

        packed.Invoking(p => p.NextJob(out _, out _)).Should().Throw<FormatException>().WithMessage($"*a job of {header} + {envelope} bytes where {left} were left*");
    }

    [Fact]
    public void End_BytesLeftOver_IsAFormatExceptionSayingHowMany()
    {
        var packed = new PackedJobs((byte[])[.. Pack(("h", "e")), .. "abc"u8.ToArray()]);
        packed.NextJob(out _, out _);

        packed.Invoking(p => p.End(1)).Should().Throw<FormatException>().WithMessage("*3 bytes (\"abc\") after the end of its job 1*");
    }

    [Theory]
    [InlineData(2, 3, "2 jobs where the reply said 3")]
    [InlineData(3, 3, "more values than its 3 jobs needed")]
    public void CountMismatch_SaysWhatWasFound(int read, int count, string expected)
    {
        PackedJobs.CountMismatch(count, read).Message.Should().Contain(expected);
    }

    private static (string Header, string Envelope) Read(ref PackedJobs packed)
    {
        packed.NextJob(out ReadOnlyMemory<byte> header, out ReadOnlyMemory<byte> envelope);
        return (Encoding.UTF8.GetString(header.Span), Encoding.UTF8.GetString(envelope.Span));
    }

    private static byte[] Pack(params (string Header, string Envelope)[] jobs) =>
        [.. jobs.SelectMany(j => (byte[])[.. Lengths((uint)Encoding.UTF8.GetByteCount(j.Header), (uint)Encoding.UTF8.GetByteCount(j.Envelope)), .. Encoding.UTF8.GetBytes(j.Header), .. Encoding.UTF8.GetBytes(j.Envelope)])];

    private static byte[] Lengths(uint header, uint envelope)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, header);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4), envelope);
        return bytes;
    }

    private static byte[] Lengths(int header, int envelope) => Lengths((uint)header, (uint)envelope);
}
