namespace Crm.Tests.Infrastructure;

public static class TestKeys
{
    public static readonly TestKey Admin = new("test-admin", "admin-key-0123456789abcdef", "admin");
    public static readonly TestKey Operator = new("test-operator", "operator-key-0123456789abcdef", "operator");
    public static readonly TestKey Reader = new("test-reader", "reader-key-0123456789abcdef", "reader");
    public static readonly TestKey[] All = [Admin, Operator, Reader];

    // Crm:Privacy:HashKey of every test host (required outside Development).
    public const string PrivacyHashKey = "test-only-privacy-hash-key-0123456789";
}
