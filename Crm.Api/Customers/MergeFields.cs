using Crm.Jobs.Customers;

namespace Crm.Api.Customers;

// The contact fields of a merged customer (docs/SYNC-RULES.md#merging-customers), one rule for
// the preview and the merge: the target keeps its value; an empty one (a name also when it is
// the placeholder) takes the first source's in the order the sources were given. Different
// non-empty values (e-mails compared without case) are conflicts.
public static class MergeFields
{
    public const string Name = "name", Email = "email", City = "city", Address = "address", Notes = "notes";

    // The customers, the target first; the fields in the order above.
    public static (Dictionary<string, MergedField> Merged, List<MergeConflict> Conflicts) Decide(
        IReadOnlyList<Customer> customers, string placeholderName)
    {
        static bool Empty(string value) => value.Trim().Length == 0;
        var fields = new (string Name, Func<Customer, string> Of, Func<string, bool> IsEmpty, StringComparer Same)[]
        {
            (Name, c => c.Name, v => Empty(v) || v.Trim() == placeholderName, StringComparer.Ordinal),
            (Email, c => c.Email, Empty, StringComparer.OrdinalIgnoreCase),
            (City, c => c.City, Empty, StringComparer.Ordinal),
            (Address, c => c.Address, Empty, StringComparer.Ordinal),
            (Notes, c => c.Notes, Empty, StringComparer.Ordinal),
        };
        var merged = new Dictionary<string, MergedField>();
        var conflicts = new List<MergeConflict>();
        foreach (var (name, of, isEmpty, same) in fields)
        {
            var held = customers.Where(c => !isEmpty(of(c))).Select(c => new MergedField(of(c), c.Id)).ToList();
            merged[name] = held.FirstOrDefault() ?? new MergedField(of(customers[0]), null);
            if (held.Select(f => f.Value.Trim()).Distinct(same).Count() > 1)
                conflicts.Add(new MergeConflict(name, held));
        }
        return (merged, conflicts);
    }
}
