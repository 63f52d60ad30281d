"""Qt front end of CNN Lab: widgets only; what needs no Qt lives in the core (``cnnlab``).

It imports the core only through its public API (``cnnlab`` and the subpackages
it names); the import-linter contract in ``pyproject.toml`` checks that.

Modules:
    app: ``main``, the window's one entry point (the CLI calls it); start-up checks.
    main_window, menus, file_actions, document, editor, clipboard: the builder window,
        its menus and files, the experiment document with undo, canvas edits.
    palette, properties, param_form, param_widgets, wheel_guard: the block palette and
        the one form builder for block and recipe fields.
    problems, summary_table, presets_dialog, model_import, figure_export,
        fully_conv_action: the panels and dialogs around the canvas.
    tf_loader, tf_gate, gc_policy, crash, dialogs, settings, recovery, folder_drop:
        background TensorFlow import, GUI-thread garbage collection, messages, state.
    canvas: the graphics scene. views: the Training, Runs, Recipe and Inspect views.
"""
