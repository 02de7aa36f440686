using System.Text;
using FluentAssertions;
using ResilientQueue.Redis.Scripting;

namespace ResilientQueue.Redis.Tests.Scripting;

/// <summary>A fetch reply's packed jobs (<c>pack_lease</c> in <c>_common.lua</c>), read without a server.</summary>
public sealed class PackedValuesTests
{
    [Fact]
    public void Next_ReadsEachValueByItsLength_ThenEndAcceptsTheEmptyRest()
    {
        var packed = new PackedValues(Bytes("5:hello0:3:a:b"));

        Text(packed.Next()).Should().Be("hello");
        Text(packed.Next()).Should().BeEmpty();
        Text(packed.Next()).Should().Be("a:b");
        packed.Invoking(p => p.End(2)).Should().NotThrow();
    }

    [Fact]
    public void Next_AValueHoldingAnyByte_IsReadWhole()
    {
        byte[] value = [0, (byte)':', 0xff, (byte)'\n', (byte)' '];
        var packed = new PackedValues((byte[])[.. Bytes("5:"), .. value]);

        packed.Next().ToArray().Should().Equal(value);
    }

    [Fact]
    public void Next_ReturnsSlicesOfThePackedArray_WithoutCopying()
    {
        byte[] array = Bytes("2:ab");
        var packed = new PackedValues(array);

        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(packed.Next(), out ArraySegment<byte> segment).Should().BeTrue();
        segment.Array.Should().BeSameAs(array);
        segment.Offset.Should().Be(2);
    }

    [Theory]
    [InlineData("")]
    [InlineData("hello")]
    [InlineData(":x")]
    [InlineData("-1:x")]
    [InlineData("6:hello")]
    [InlineData("99999999999:x")]
    [InlineData("2x:ab")]
    public void Next_AnythingElse_IsAFormatExceptionQuotingIt(string value)
    {
        var packed = new PackedValues(Bytes(value));

        packed.Invoking(p => p.Next()).Should().Throw<FormatException>().WithMessage($"*\"{value}\"*\"<length>:<bytes>\"*different versions*");
    }

    [Fact]
    public void End_BytesLeftOver_IsAFormatExceptionSayingHowMany()
    {
        var packed = new PackedValues(Bytes("1:a1:b"));
        packed.Next();

        packed.Invoking(p => p.End(1)).Should().Throw<FormatException>().WithMessage("*3 bytes (\"1:b\") after the end of its job 1*");
    }

    private static byte[] Bytes(string s) => Encoding.UTF8.GetBytes(s);

    private static string Text(ReadOnlyMemory<byte> value) => Encoding.UTF8.GetString(value.Span);
}
