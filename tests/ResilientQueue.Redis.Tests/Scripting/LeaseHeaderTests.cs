using System.Text;
using FluentAssertions;
using ResilientQueue.Redis.Scripting;

namespace ResilientQueue.Redis.Tests.Scripting;

/// <summary>The fetch reply's lease header (<c>lease_header</c> in <c>_common.lua</c>), read without a server.</summary>
public sealed class LeaseHeaderTests
{
    [Fact]
    public void Parse_AStreamHeader_ReadsItsFourParts()
    {
        Parse("3 1733333333333 17:1733333333000 0193a1b2c3d4").Should().Be(new LeaseHeader(3, 1733333333333, "17:1733333333000", "0193a1b2c3d4"));
    }

    [Fact]
    public void Parse_AnEmptyTime_ReadsAsMinusOne()
    {
        Parse("1  5:10 job").Should().Be(new LeaseHeader(1, -1, "5:10", "job"));
    }

    [Fact]
    public void Parse_AnIdWithSpaces_KeepsTheWholeRest()
    {
        Parse("2  5:10 an id with spaces").Id.Should().Be("an id with spaces");
    }

    [Theory]
    [InlineData("")]
    [InlineData("1 2 3")]
    [InlineData("x  5:10 job")]
    [InlineData("1 t 5:10 job")]
    [InlineData("1   job")]
    [InlineData("1  5:10 ")]
    public void Parse_AnythingElse_IsAFormatExceptionQuotingTheValue(string value)
    {
        FluentActions.Invoking(() => Parse(value)).Should().Throw<FormatException>().WithMessage($"*\"{value}\"*lease header*");
    }

    private static LeaseHeader Parse(string value) => LeaseHeader.Parse(Encoding.UTF8.GetBytes(value));
}
