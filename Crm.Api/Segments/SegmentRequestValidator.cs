using System.Text.Json;
using Crm.Api.Customers;
using Crm.Jobs.Segments;
using Crm.Jobs.Validation;
using FluentValidation;

namespace Crm.Api.Segments;

// The filter is judged by GET /api/customers' own rules (CustomerListQueryValidator), its
// errors named inside the filter: filter.minSpent.
public sealed class SegmentRequestValidator : AbstractValidator<SegmentRequest>
{
    public SegmentRequestValidator(IValidator<CustomerListQuery> list)
    {
        // Judged as stored: trimmed.
        RuleFor(r => r.Name).Cascade(CascadeMode.Stop).NotEmpty().NoControlCharacters()
            .Must(name => name!.Trim().Length <= Segment.NameMaxLength)
            .WithMessage($"name must be at most {Segment.NameMaxLength} characters.");
        RuleFor(r => r.Filter).NotNull();
        RuleFor(r => r.Filter!).Custom((filter, context) =>
        {
            // A saved search would keep what was typed (a name, a phone) for good.
            if (filter.Search is not null)
                context.AddFailure("filter.search",
                    "A saved segment does not keep search text (it may be a person's name or phone): leave search out, and search the segment's customers with GET /api/customers.");
            foreach (var error in list.Validate(filter.ToQuery()).Errors)
                context.AddFailure("filter." + JsonNamingPolicy.CamelCase.ConvertName(error.PropertyName), error.ErrorMessage);
        }).When(r => r.Filter is not null);
    }
}
