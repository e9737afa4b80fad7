using Crm.Jobs.Phones;
using Microsoft.Extensions.Options;

namespace Crm.Tests.Customers;

public class PhoneNormalizerTests
{
    private static readonly PhoneNormalizer Russian = new(Options.Create(new PhoneOptions { DefaultRegion = "RU" }));

    [Theory]
    [InlineData("8 (999) 123-45-67")]
    [InlineData("+7 999 123 45 67")]
    [InlineData("9991234567")]
    [InlineData("89991234567")]
    [InlineData("+79991234567")]
    [InlineData("  +7 (999) 123-45-67  ")]
    [InlineData("7-999-123-45-67")]
    public void EverySpellingOfOneNumberIsOneE164String(string raw) =>
        Assert.Equal("+79991234567", Russian.Normalize(raw));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("123")]
    [InlineData("not a phone")]
    [InlineData("+7 999 abc 45 67")]
    [InlineData("8-800-FLOWERS")]
    [InlineData("😀😀😀😀😀😀😀😀😀😀")]
    [InlineData("+7 999 123 45 67 89 01 23")]
    public void TextThatIsNotAPossibleNumberIsNull(string? raw) => Assert.Null(Russian.Normalize(raw));

    // libphonenumber calls German numbers of up to 17 digits possible; E.164 (and the
    // customers table) stops at 15. What the normaliser accepts must fit the table.
    [Theory]
    [InlineData("+49 301234567890123", null)]
    [InlineData("+49 30123456789012", null)]
    [InlineData("+49 3012345678901", "+493012345678901")]
    public void NumbersLongerThanE164AllowsAreNotPossible(string raw, string? expected) =>
        Assert.Equal(expected, Russian.Normalize(raw));

    [Fact]
    public void ForeignNumbersKeepTheirCountry() =>
        Assert.Equal("+442079460958", Russian.Normalize("+44 20 7946 0958"));

    [Fact]
    public void TheDefaultRegionDecidesNumbersWithoutACountryCode()
    {
        var german = new PhoneNormalizer(Options.Create(new PhoneOptions { DefaultRegion = "DE" }));
        Assert.Equal("+49301234567", german.Normalize("030 1234567"));
    }
}
