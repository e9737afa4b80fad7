using Microsoft.Extensions.Options;
using PhoneNumbers;

namespace Crm.Jobs.Phones;

public sealed class PhoneOptions
{
    public const string Section = "Crm:Phone";

    // Region assumed for numbers written without a country code ("8 (999) ...", "999...").
    public string DefaultRegion { get; set; } = "RU";
}

// Phone is the customer's identity: every spelling of one number maps to one E.164 string.
public sealed class PhoneNormalizer(IOptions<PhoneOptions> options)
{
    private static readonly PhoneNumberUtil Util = PhoneNumberUtil.GetInstance();
    private readonly string _region = options.Value.DefaultRegion.ToUpperInvariant();

    public static bool IsKnownRegion(string region) =>
        Util.GetSupportedRegions().Contains(region.ToUpperInvariant());

    // E.164 ("+79991234567"), or null when the text is not a possible phone number.
    public string? Normalize(string? raw)
    {
        // libphonenumber reads letters as keypad digits ("1-800-FLOWERS"); a CRM phone has none.
        if (string.IsNullOrWhiteSpace(raw) || raw.Length > 50 || raw.Any(char.IsLetter))
            return null;
        try
        {
            var number = Util.Parse(raw, _region);
            return Util.IsPossibleNumber(number) ? Util.Format(number, PhoneNumberFormat.E164) : null;
        }
        catch (NumberParseException)
        {
            // Unparsable text is an expected input here, reported to callers as null.
            return null;
        }
    }
}
