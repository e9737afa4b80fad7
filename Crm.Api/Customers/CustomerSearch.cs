using Crm.Jobs.Customers;
using Crm.Jobs.Phones;
using Microsoft.EntityFrameworkCore;

namespace Crm.Api.Customers;

public static class CustomerSearch
{
    // Case-insensitive substring match on name, email and phone through the trigram index
    // on search_text; a phone in any spelling also finds its customer exactly, by its primary
    // phone or any other (customer_phones' key).
    public static IQueryable<Customer> Apply(IQueryable<Customer> customers, IQueryable<CustomerPhone> otherPhones, string search, PhoneNormalizer phones)
    {
        var text = search.Trim();
        var digits = new string(text.Where(char.IsAsciiDigit).ToArray());
        var isPhoneFragment = digits.Length >= 3 && text.All(c => char.IsAsciiDigit(c) || c is ' ' or '+' or '-' or '(' or ')');
        var pattern = "%" + EscapeLike(isPhoneFragment ? digits : text.ToLowerInvariant()) + "%";

        var phone = isPhoneFragment ? phones.Normalize(text) : null;
        return phone is null
            ? customers.Where(c => EF.Functions.Like(c.SearchText, pattern, @"\"))
            : customers.Where(c => EF.Functions.Like(c.SearchText, pattern, @"\") || c.Phone == phone
                                   || otherPhones.Any(p => p.Phone == phone && p.CustomerId == c.Id));
    }

    private static string EscapeLike(string text) =>
        text.Replace(@"\", @"\\").Replace("%", @"\%").Replace("_", @"\_");
}
