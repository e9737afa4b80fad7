using Crm.Jobs.Categories;

namespace Crm.Jobs.Customers;

public class Customer
{
    public const int NameMaxLength = 200;
    public const int PhoneMaxLength = 20;
    public const int EmailMaxLength = 254;
    public const int CityMaxLength = 100;
    public const int AddressMaxLength = 500;
    public const int NotesMaxLength = 10_000;

    // 18 digits before the point: 100 million orders of the largest amount (10^10) each.
    public const int TotalSpentPrecision = 20;

    public long Id { get; set; }
    public required string Name { get; set; }

    // E.164, the customer's identity.
    public required string Phone { get; set; }
    public string Email { get; set; } = "";
    public string City { get; set; } = "";
    public string Address { get; set; } = "";
    public string Notes { get; set; } = "";

    // Computed by the sync engine, never written by a client.
    public CustomerCategory Category { get; set; } = CustomerCategory.New;
    // The rule that decided the category, written with it (CategoryRules).
    public CategoryRule CategoryRule { get; set; } = CategoryRule.NoCompletedOrders;
    public int TotalOrders { get; set; }
    public decimal TotalSpent { get; set; }
    public decimal AverageOrder { get; set; }
    public DateTime? LastOrderDate { get; set; }

    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }

    // PostgreSQL's row version (xmin): the ETag, and the check behind If-Match.
    public uint Version { get; set; }

    // Lower-cased name, email and phone, maintained by PostgreSQL for trigram search.
    public string SearchText { get; private set; } = "";

    public List<CustomerNote> CustomerNotes { get; set; } = [];
}
