using Crm.Jobs.Customers;
using Crm.Jobs.Validation;
using FluentValidation;

namespace Crm.Api.Customers;

public sealed class NoteRequestValidator : AbstractValidator<NoteRequest>
{
    public NoteRequestValidator()
    {
        RuleFor(r => r.Note).NotEmpty().MaximumLength(CustomerNote.NoteMaxLength).NoControlCharacters();
    }
}
