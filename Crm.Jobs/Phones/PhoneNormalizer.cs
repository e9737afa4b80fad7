using Microsoft.Extensions.Options;
using PhoneNumbers;

namespace Crm.Jobs.Phones;

// Phone is the customer's identity: every spelling of one number maps to one E.164 string.
public sealed class PhoneNormalizer(IOptions<PhoneOptions> options)
{
    private static readonly PhoneNumberUtil Util = PhoneNumberUtil.GetInstance();
    private readonly string _region = options.Value.DefaultRegion.ToUpperInvariant();

    // '+' and at most 15 digits, as ck_customers_phone_e164 checks.
    public const int MaxE164Length = 16;

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
            if (!Util.IsPossibleNumber(number))
                return null;
            // libphonenumber calls some numbers of up to 17 digits "possible" (German ones);
            // E.164 and the customers table allow 15.
            var e164 = Util.Format(number, PhoneNumberFormat.E164);
            return e164.Length <= MaxE164Length ? e164 : null;
        }
        catch (NumberParseException)
        {
            // Unparsable text is an expected input here, reported to callers as null.
            return null;
        }
    }
}
