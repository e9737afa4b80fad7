namespace Crm.Jobs.Phones;

public sealed class PhoneOptions
{
    public const string Section = "Crm:Phone";

    // Region assumed for numbers written without a country code ("8 (999) ...", "999...").
    public string DefaultRegion { get; set; } = "RU";
}
