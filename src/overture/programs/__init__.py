"""Programs and static lists (docs/programs.md): who is in which program at which status, who is on which list,
and the history of every change with who or what made it. Automations (issue 15) call `service.set_program_status`,
`lists.add_to_list` and `lists.remove_from_list`; each records its activity in the caller's transaction."""
