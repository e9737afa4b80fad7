namespace Crm.Api.Dashboard;

// "1 subscription", "3 subscriptions": the dashboard's counts in English.
internal static class Plural
{
    public static string Of(long count, string noun) => $"{count} {Word(count, noun)}";

    public static string Word(long count, string noun) => count == 1 ? noun : noun + "s";
}
