using Crm.Jobs.Customers;
using Crm.Jobs.Phones;
using Microsoft.EntityFrameworkCore;

namespace Crm.Api.Customers;

// Search as people type (docs/API.md, "Customers"): every word of the query, in any order,
// must appear in the customer's name, e-mail or primary phone (search_text, through its
// trigram index: one index scan per word, ANDed); case and ё/е do not matter. A word of
// digits is a phone fragment in any spelling: "8 912 000", "+7 (912) 000" and "912-000" all
// look for the digits, a leading 8 also as the country code 7 (a Russian number dialled at
// home). A whole phone in any spelling also finds its customer exactly, by its primary phone
// or any other one (customer_phones' key).
public static class CustomerSearch
{
    public static IQueryable<Customer> Apply(IQueryable<Customer> customers, IQueryable<CustomerPhone> otherPhones, string search, PhoneNormalizer phones)
    {
        // A whole phone in any spelling: its digits, and its customer exactly by any of its phones.
        // The other phone's owner is one scalar subquery (an InitPlan, read once), so the
        // conditions are one BitmapOr of index scans; written as EXISTS per row, it was a scan
        // of all customers (0.3 s at 200 000).
        if (IsPhoneSpelling(search.Trim()) && phones.Normalize(search) is { } phone)
        {
            var (pattern, trunkPattern) = Terms(search).Single();
            var owner = otherPhones.Where(p => p.Phone == phone).Select(p => (long?)p.CustomerId);
            return trunkPattern is null
                ? customers.Where(c => EF.Functions.Like(c.SearchText, pattern, @"\") || c.Phone == phone || c.Id == owner.FirstOrDefault())
                : customers.Where(c => EF.Functions.Like(c.SearchText, pattern, @"\") || EF.Functions.Like(c.SearchText, trunkPattern, @"\")
                                       || c.Phone == phone || c.Id == owner.FirstOrDefault());
        }
        foreach (var (pattern, trunkPattern) in Terms(search))
            customers = trunkPattern is null
                ? customers.Where(c => EF.Functions.Like(c.SearchText, pattern, @"\"))
                : customers.Where(c => EF.Functions.Like(c.SearchText, pattern, @"\") || EF.Functions.Like(c.SearchText, trunkPattern, @"\"));
        return customers;
    }

    // The LIKE patterns, one per word (a run of phone spelling counts as one word), and for a
    // fragment beginning with 8 the same with 7 in its place.
    private static List<(string Pattern, string? TrunkPattern)> Terms(string search)
    {
        var terms = new List<(string, string?)>();
        foreach (var word in Words(search))
        {
            if (IsPhoneSpelling(word) && word.Count(char.IsAsciiDigit) >= 3)
            {
                var digits = new string(word.Where(char.IsAsciiDigit).ToArray());
                terms.Add(($"%{digits}%", digits[0] == '8' && !word.StartsWith('+') ? $"%7{digits[1..]}%" : null));
            }
            else
                terms.Add(($"%{EscapeLike(Fold(word))}%", null));
        }
        return terms;
    }

    // Words split at white space, except that "8 (912) 000-77" is one word: consecutive pieces
    // of phone spelling are joined.
    private static List<string> Words(string search)
    {
        var words = new List<string>();
        foreach (var piece in search.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
        {
            if (words.Count > 0 && IsPhoneSpelling(piece) && IsPhoneSpelling(words[^1]))
                words[^1] += piece;
            else
                words.Add(piece);
        }
        return words;
    }

    private static bool IsPhoneSpelling(string text) =>
        text.Length > 0 && text.Any(char.IsAsciiDigit) && text.All(c => char.IsAsciiDigit(c) || c is ' ' or '+' or '-' or '(' or ')');

    // As search_text is folded (CustomerConfiguration): lower case, ё as е.
    private static string Fold(string text) => text.ToLowerInvariant().Replace('ё', 'е');

    private static string EscapeLike(string text) =>
        text.Replace(@"\", @"\\").Replace("%", @"\%").Replace("_", @"\_");
}
