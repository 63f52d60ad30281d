"""The training recipe: regularizers, augmentation, optimizers, schedules, transfer."""
